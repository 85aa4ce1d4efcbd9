import { isIPv4, isIPv6 } from 'node:net';
import {
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SubscribeCommand,
  UnsubscribeCommand,
  type SNSClient,
  type Subscription as SnsSubscription,
} from '@aws-sdk/client-sns';
import type { z } from 'zod';
import type { FieldError } from '../http/response';
import type { SubscriptionsConfig } from './config';
import { ApiError, invalid, notFound, unavailable } from './errors';
import type { Protocol, SubscriptionRequestSchema, SubscriptionSchema } from './schemas';

/**
 * Signal subscriptions are SNS subscriptions on the signals topic, filtered by the
 * message attributes the notify stage sets (`symbol`, `side`). SNS is the only
 * state: an id is the subscription ARN's last segment, and is only ever resolved
 * against this deployment's own topic, so it cannot reach anyone else's.
 */

export type SubscriptionRequest = z.output<typeof SubscriptionRequestSchema>;
export type SubscriptionView = z.output<typeof SubscriptionSchema>;
export type SnsSender = Pick<SNSClient, 'send'>;

export interface SubscriptionDeps {
  sns: SnsSender;
  config: SubscriptionsConfig;
}

/** SNS limits (https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html). */
export const FILTER_POLICY_LIMITS = { maxKeys: 5, maxCombinations: 150 } as const;

export type FilterPolicy = Record<string, string[]>;

export function buildFilterPolicy(req: Pick<SubscriptionRequest, 'symbols' | 'sides'>): FilterPolicy | undefined {
  const policy: FilterPolicy = {};
  if (req.symbols) policy.symbol = [...new Set(req.symbols)].sort();
  if (req.sides) policy.side = [...new Set(req.sides)].sort();
  return Object.keys(policy).length ? policy : undefined;
}

/** SNS counts a policy's combinations as the product of its keys' value counts. */
export function checkFilterPolicy(policy: FilterPolicy | undefined): FieldError[] {
  if (!policy) return [];
  const keys = Object.keys(policy);
  const errors: FieldError[] = [];
  if (keys.length > FILTER_POLICY_LIMITS.maxKeys) {
    errors.push({ field: '(root)', message: `a filter policy may have at most ${FILTER_POLICY_LIMITS.maxKeys} keys, got ${keys.length}` });
  }
  const combinations = keys.reduce((n, k) => n * (policy[k]?.length ?? 1), 1);
  if (combinations > FILTER_POLICY_LIMITS.maxCombinations) {
    errors.push({
      field: 'symbols',
      message: `symbols × sides makes ${combinations} filter combinations; SNS allows at most ${FILTER_POLICY_LIMITS.maxCombinations} (list fewer symbols, or omit sides)`,
    });
  }
  return errors;
}

// ---------------------------------------------------------------------------
// Endpoint validation.

export type EndpointCheck =
  | { ok: true; snsProtocol: 'email' | 'sms' | 'https' | 'http' | 'sqs'; endpoint: string; capKey: string }
  | { ok: false; message: string };

const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const E164 = /^\+[1-9]\d{1,14}$/;
const SQS_ARN = /^arn:(aws[a-z-]*):sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/;

function ipv4Private(ip: string): boolean {
  const [a = 0, b = 0, c = 0] = ip.split('.').map(Number);
  return (
    a === 0 || a === 10 || a === 127 || a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 0 && c === 0) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19))
  );
}

function ipv6Private(ip: string): boolean {
  const s = ip.toLowerCase();
  if (s === '::' || s === '::1') return true;
  // IPv4-mapped (::ffff:a.b.c.d, which URL parsing rewrites to ::ffff:hhhh:hhhh).
  const mapped = /^::ffff:(?:([0-9.]+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(s);
  if (mapped) {
    if (mapped[1]) return isIPv4(mapped[1]) ? ipv4Private(mapped[1]) : true;
    const hi = parseInt(mapped[2]!, 16), lo = parseInt(mapped[3]!, 16);
    return ipv4Private(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  return /^f[cd]/.test(s) || /^fe[89ab]/.test(s) || s.startsWith('ff');
}

/**
 * A webhook must be a public https URL. SNS calls it from AWS's network, so this
 * is not the only SSRF barrier, but it keeps obviously internal targets (and URLs
 * carrying credentials, which SNS would log) out of the topic.
 */
function checkWebhook(endpoint: string, allowInsecure: boolean): EndpointCheck {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { ok: false, message: 'endpoint must be an absolute https URL' };
  }
  const insecureOk = allowInsecure && url.protocol === 'http:';
  if (url.protocol !== 'https:' && !insecureOk) return { ok: false, message: `endpoint must use https, got ${url.protocol.replace(':', '')}` };
  if (url.username || url.password) return { ok: false, message: 'endpoint must not contain credentials (user:password@)' };
  if (url.hash) return { ok: false, message: 'endpoint must not contain a #fragment' };
  if (!allowInsecure) {
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    if (isIPv4(host) ? ipv4Private(host) : isIPv6(host) ? ipv6Private(host) : false) {
      return { ok: false, message: `endpoint host ${host} is a private, loopback or reserved address` };
    }
    if (!isIPv4(host) && !isIPv6(host)) {
      if (host === 'localhost' || /\.(localhost|local|internal)\.?$/.test(host)) return { ok: false, message: `endpoint host ${host} is not a public host name` };
      if (!host.includes('.')) return { ok: false, message: `endpoint host ${host} must be a fully qualified public host name` };
    }
  }
  // The cap counts per URL without its query string, so ?a=1, ?a=2, ... cannot multiply deliveries to one receiver.
  const capKey = `${url.protocol}//${url.host.toLowerCase()}${url.pathname}`;
  return { ok: true, snsProtocol: url.protocol === 'http:' ? 'http' : 'https', endpoint: url.href, capKey };
}

export function checkEndpoint(protocol: Protocol, endpoint: string, cfg: Pick<SubscriptionsConfig, 'allowInsecureWebhooks' | 'accountId' | 'region' | 'partition'>): EndpointCheck {
  switch (protocol) {
    case 'email': {
      if (!EMAIL.test(endpoint)) return { ok: false, message: 'endpoint must be an email address such as alerts@example.com' };
      const [local = '', domain = ''] = endpoint.split('@');
      // Plus-addressing reaches the same mailbox, so it shares that mailbox's cap.
      return { ok: true, snsProtocol: 'email', endpoint, capKey: `email:${local.split('+')[0]!.toLowerCase()}@${domain.toLowerCase()}` };
    }
    case 'sms':
      if (!E164.test(endpoint)) return { ok: false, message: 'endpoint must be an E.164 phone number: + then country code and number, up to 15 digits (e.g. +14155550100)' };
      return { ok: true, snsProtocol: 'sms', endpoint, capKey: `sms:${endpoint}` };
    case 'https':
      return checkWebhook(endpoint, cfg.allowInsecureWebhooks);
    case 'sqs': {
      const m = SQS_ARN.exec(endpoint);
      if (!m) return { ok: false, message: 'endpoint must be an SQS queue ARN: arn:aws:sqs:<region>:<account>:<queue>' };
      const [, partition, region, account, name] = m;
      if (name!.endsWith('.fifo')) return { ok: false, message: 'FIFO queues cannot subscribe to the (standard) signals topic; use a standard queue' };
      if (partition !== cfg.partition || region !== cfg.region || account !== cfg.accountId) {
        return { ok: false, message: `endpoint must be a queue in this deployment's account ${cfg.accountId} and region ${cfg.region}` };
      }
      return { ok: true, snsProtocol: 'sqs', endpoint, capKey: `sqs:${endpoint}` };
    }
  }
}

/** The cap key of a subscription SNS already holds (same rules as for a new one, without the policy checks). */
function capKeyOf(s: SnsSubscription): string | undefined {
  if (!s.Endpoint || !s.Protocol) return undefined;
  const protocol: Protocol | undefined = s.Protocol === 'http' || s.Protocol === 'https' ? 'https' : (['email', 'sms', 'sqs'] as const).find((p) => p === s.Protocol);
  if (!protocol) return undefined;
  const r = checkEndpoint(protocol, s.Endpoint, { allowInsecureWebhooks: true, accountId: '', region: '', partition: '' });
  if (r.ok) return r.capKey;
  return protocol === 'sqs' ? `sqs:${s.Endpoint}` : undefined;
}

// ---------------------------------------------------------------------------
// SNS calls.

export const SUBSCRIPTION_ID = /^[A-Za-z0-9-]{1,100}$/;

function topicOf(deps: SubscriptionDeps): string {
  const arn = deps.config.topicArn;
  if (!arn) throw unavailable('Subscriptions', 'SIGNAL_TOPIC_ARN is not configured');
  return arn;
}

export function subscriptionIdOf(topicArn: string, subscriptionArn: string): string | undefined {
  const prefix = `${topicArn}:`;
  if (!subscriptionArn.startsWith(prefix)) return undefined;
  const id = subscriptionArn.slice(prefix.length);
  return SUBSCRIPTION_ID.test(id) ? id : undefined;
}

/** Maps an SNS failure to an HTTP answer; bad input from the client is a 4xx, an SNS outage a 503. */
function snsFailure(err: unknown, action: string): ApiError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? '';
  const msg = e?.message ?? String(err);
  if (/NotFound/.test(name)) return notFound('Subscription not found');
  if (/InvalidParameter/.test(name)) return invalid([{ field: 'endpoint', message: `SNS refused the subscription: ${msg}` }], 'SNS refused the request');
  if (/SubscriptionLimitExceeded/.test(name)) return new ApiError(409, 'subscription_limit', 'The signals topic has reached its subscription limit');
  if (/Throttl/.test(name)) return unavailable('SNS', 'throttled');
  if (/Authorization|AccessDenied/.test(name)) return new ApiError(502, 'upstream_error', `SNS refused ${action}: the API is not allowed to (${name})`);
  if (e?.$metadata?.httpStatusCode === undefined || (e.$metadata.httpStatusCode ?? 0) >= 500) return unavailable('SNS', `${action} failed (${name || 'network error'})`);
  return new ApiError(502, 'upstream_error', `SNS ${action} failed: ${name}: ${msg}`);
}

async function call<T>(fn: () => Promise<T>, action: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw snsFailure(err, action);
  }
}

async function listTopicSubscriptions(deps: SubscriptionDeps, topicArn: string): Promise<SnsSubscription[]> {
  const out: SnsSubscription[] = [];
  let token: string | undefined;
  // 100 per page; the bound keeps a runaway topic from turning one request into thousands of calls.
  for (let page = 0; page < 100; page++) {
    const r = await call(() => deps.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token })), 'ListSubscriptionsByTopic');
    out.push(...(r.Subscriptions ?? []));
    token = r.NextToken;
    if (!token) break;
  }
  return out;
}

function parsePolicy(text: string | undefined): { symbols: string[] | null; sides: ('BUY' | 'SELL')[] | null } {
  if (!text) return { symbols: null, sides: null };
  try {
    const p = JSON.parse(text) as Record<string, unknown>;
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null);
    const sides = strings(p.side)?.filter((s): s is 'BUY' | 'SELL' => s === 'BUY' || s === 'SELL') ?? null;
    return { symbols: strings(p.symbol), sides };
  } catch {
    return { symbols: null, sides: null };
  }
}

function view(id: string, attrs: Record<string, string>): SubscriptionView {
  const { symbols, sides } = parsePolicy(attrs.FilterPolicy);
  const protocol = (attrs.Protocol === 'http' ? 'https' : attrs.Protocol) as Protocol;
  return {
    id,
    protocol,
    endpoint: attrs.Endpoint ?? '',
    symbols,
    sides,
    status: attrs.PendingConfirmation === 'true' ? 'pending-confirmation' : 'confirmed',
  };
}

async function attributesOf(deps: SubscriptionDeps, topicArn: string, id: string): Promise<Record<string, string>> {
  const r = await call(() => deps.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: `${topicArn}:${id}` })), 'GetSubscriptionAttributes');
  const attrs = r.Attributes ?? {};
  if (attrs.TopicArn !== undefined && attrs.TopicArn !== topicArn) throw notFound('Subscription not found');
  return attrs;
}

function samePolicy(a: FilterPolicy | undefined, text: string | undefined): boolean {
  if (!a) return !text;
  if (!text) return false;
  try {
    const b = JSON.parse(text) as FilterPolicy;
    const norm = (p: FilterPolicy) => JSON.stringify(Object.keys(p).sort().map((k) => [k, [...(p[k] ?? [])].sort()]));
    return norm(a) === norm(b);
  } catch {
    return false;
  }
}

export interface Created {
  created: boolean;
  subscription: SubscriptionView;
}

export async function createSubscription(deps: SubscriptionDeps, req: SubscriptionRequest): Promise<Created> {
  const topicArn = topicOf(deps);
  const endpoint = checkEndpoint(req.protocol, req.endpoint, deps.config);
  const fields: FieldError[] = [];
  if (!endpoint.ok) fields.push({ field: 'endpoint', message: endpoint.message });
  const dupSymbols = req.symbols?.filter((s, i, all) => all.indexOf(s) !== i) ?? [];
  if (dupSymbols.length) fields.push({ field: 'symbols', message: `symbols lists ${[...new Set(dupSymbols)].join(', ')} more than once` });
  if (req.sides && new Set(req.sides).size !== req.sides.length) fields.push({ field: 'sides', message: 'sides lists a side more than once' });
  const policy = buildFilterPolicy(req);
  fields.push(...checkFilterPolicy(policy));
  if (fields.length || !endpoint.ok) throw invalid(fields);

  const existing = await listTopicSubscriptions(deps, topicArn);
  const same = existing.find((s) => s.Protocol === endpoint.snsProtocol && s.Endpoint === endpoint.endpoint);
  if (same?.SubscriptionArn) {
    // SNS keeps one subscription per (protocol, endpoint) on a topic and refuses to change it through Subscribe.
    const id = subscriptionIdOf(topicArn, same.SubscriptionArn);
    if (id) {
      const attrs = await attributesOf(deps, topicArn, id);
      if (samePolicy(policy, attrs.FilterPolicy)) return { created: false, subscription: view(id, attrs) };
      throw new ApiError(409, 'subscription_exists', `${req.endpoint} is already subscribed (id ${id}) with other symbols or sides; delete it first, then subscribe again`);
    }
  }
  const count = existing.filter((s) => capKeyOf(s) === endpoint.capKey).length;
  if (count >= deps.config.maxPerEndpoint) {
    throw new ApiError(409, 'subscription_limit', `This endpoint already has ${count} subscriptions; the limit is ${deps.config.maxPerEndpoint} per endpoint`);
  }

  const r = await call(
    () =>
      deps.sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: endpoint.snsProtocol,
          Endpoint: endpoint.endpoint,
          ReturnSubscriptionArn: true,
          Attributes: policy ? { FilterPolicy: JSON.stringify(policy), FilterPolicyScope: 'MessageAttributes' } : undefined,
        }),
      ),
    'Subscribe',
  );
  const id = r.SubscriptionArn ? subscriptionIdOf(topicArn, r.SubscriptionArn) : undefined;
  if (!id) throw new ApiError(502, 'upstream_error', `SNS returned an unexpected subscription ARN: ${String(r.SubscriptionArn).slice(0, 200)}`);
  const attrs = await attributesOf(deps, topicArn, id);
  return { created: true, subscription: view(id, attrs) };
}

export async function getSubscription(deps: SubscriptionDeps, id: string): Promise<SubscriptionView> {
  const topicArn = topicOf(deps);
  return view(id, await attributesOf(deps, topicArn, id));
}

export async function deleteSubscription(deps: SubscriptionDeps, id: string): Promise<void> {
  const topicArn = topicOf(deps);
  // Unsubscribe succeeds for unknown ARNs, so look it up first to answer 404 for ids that never existed.
  await attributesOf(deps, topicArn, id);
  await call(() => deps.sns.send(new UnsubscribeCommand({ SubscriptionArn: `${topicArn}:${id}` })), 'Unsubscribe');
}
