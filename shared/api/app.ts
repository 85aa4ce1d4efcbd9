import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { cachedJson, json, parseJsonBody, type HttpResult } from '../http/response';
import type { Db } from '../store/db';
import type { ApiConfig } from './config';
import { ApiError, invalid } from './errors';
import { getBars, getSignals, getSymbol, health, listSymbols, marketOverview, type MarketDeps } from './market';
import type { RedisReader } from './market-cache';
import { openApiDocument } from './openapi';
import { parseQuery, parseSymbol, readQuery, zodFieldErrors } from './params';
import { createRouter, type Route, type RouteRequest } from './router';
import { BarsQuerySchema, EmptyQuerySchema, SignalsQuerySchema, SubscriptionRequestSchema } from './schemas';
import { createSubscription, deleteSubscription, getSubscription, SUBSCRIPTION_ID, type SnsSender } from './subscriptions';

export type StaticServer = (event: APIGatewayProxyEventV2) => HttpResult | undefined | Promise<HttpResult | undefined>;

export interface ApiDeps {
  /** Read-only SQLite handle; throws when the store cannot be opened. */
  db: () => Db;
  redis: RedisReader;
  sns: SnsSender;
  config: ApiConfig;
  now?: () => number;
  /** The dashboard (GET / and /assets/...); answers 404 when absent or when it returns undefined. */
  serveStatic?: StaticServer;
  /** Unexpected errors (answered with a 500), for logging. */
  onError?: (err: unknown, event: APIGatewayProxyEventV2) => void;
}

/** Seconds a GET answer may be reused; short, because the data is live. */
export const MAX_AGE = { live: 1, history: 2, openapi: 300 } as const;

const SUBSCRIPTION_BODY_LIMIT = 16 * 1024;

function withDegraded(r: HttpResult, degraded: string[]): HttpResult {
  return degraded.length ? { ...r, headers: { ...r.headers, 'x-degraded': degraded.join(',') } } : r;
}

function symbolFrom(req: RouteRequest): string {
  const r = parseSymbol(req.params.symbol ?? '');
  if (!r.ok) throw invalid([r.error], 'Invalid path parameter');
  return r.symbol;
}

function subscriptionIdFrom(req: RouteRequest): string {
  const id = req.params.id ?? '';
  if (!SUBSCRIPTION_ID.test(id)) throw invalid([{ field: 'id', message: 'id must be 1 to 100 characters of A-Z, a-z, 0-9 and "-"' }], 'Invalid path parameter');
  return id;
}

/** The whole Query API as one function of an API Gateway v2 event. */
export function createApi(deps: ApiDeps): (event: APIGatewayProxyEventV2) => Promise<HttpResult> {
  const market: MarketDeps = { db: deps.db, redis: deps.redis, redisTimeoutMs: deps.config.redisTimeoutMs, now: deps.now ?? Date.now };
  const subs = { sns: deps.sns, config: deps.config.subscriptions };
  const noQuery = (req: RouteRequest) => parseQuery(EmptyQuerySchema, readQuery(req.event));

  const dashboard = async (req: RouteRequest): Promise<HttpResult> => {
    const r = deps.serveStatic ? await deps.serveStatic(req.event) : undefined;
    if (r) return r;
    throw new ApiError(404, 'not_found', deps.serveStatic ? `No such asset: ${req.event.rawPath.slice(0, 200)}` : 'The dashboard is not bundled in this deployment');
  };

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/health',
      handler: async (req) => {
        noQuery(req);
        const h = await health(market);
        return json(h.ok ? 200 : 503, h.body, { 'cache-control': 'no-store' });
      },
    },
    {
      method: 'GET',
      path: '/symbols',
      handler: async (req) => {
        noQuery(req);
        const a = await listSymbols(market);
        return withDegraded(cachedJson(req.event, a.body, MAX_AGE.live), a.degraded);
      },
    },
    {
      method: 'GET',
      path: '/symbols/{symbol}',
      handler: async (req) => {
        const symbol = symbolFrom(req);
        noQuery(req);
        const a = await getSymbol(market, symbol);
        return withDegraded(cachedJson(req.event, a.body, MAX_AGE.live), a.degraded);
      },
    },
    {
      method: 'GET',
      path: '/symbols/{symbol}/bars',
      handler: async (req) => {
        const symbol = symbolFrom(req);
        const q = parseQuery(BarsQuerySchema, readQuery(req.event));
        const a = await getBars(market, symbol, q);
        return cachedJson(req.event, a.body, MAX_AGE.history);
      },
    },
    {
      method: 'GET',
      path: '/signals',
      handler: async (req) => {
        const q = parseQuery(SignalsQuerySchema, readQuery(req.event));
        const a = await getSignals(market, q);
        return cachedJson(req.event, a.body, MAX_AGE.history);
      },
    },
    {
      method: 'GET',
      path: '/market/overview',
      handler: async (req) => {
        noQuery(req);
        const a = await marketOverview(market);
        return withDegraded(cachedJson(req.event, a.body, MAX_AGE.live), a.degraded);
      },
    },
    {
      method: 'GET',
      path: '/openapi.json',
      handler: (req) => cachedJson(req.event, openApiDocument(), MAX_AGE.openapi),
    },
    {
      method: 'POST',
      path: '/subscriptions',
      handler: async (req) => {
        const body = parseJsonBody(req.event, { maxBytes: SUBSCRIPTION_BODY_LIMIT });
        if (!body.ok) return body.response;
        const parsed = SubscriptionRequestSchema.safeParse(body.value);
        if (!parsed.success) throw invalid(zodFieldErrors(parsed.error), 'Invalid subscription request');
        const r = await createSubscription(subs, parsed.data);
        return json(r.created ? 201 : 200, r.subscription, { location: `/subscriptions/${r.subscription.id}`, 'cache-control': 'no-store' });
      },
    },
    {
      method: 'GET',
      path: '/subscriptions/{id}',
      handler: async (req) => {
        const id = subscriptionIdFrom(req);
        const r = cachedJson(req.event, await getSubscription(subs, id), 0);
        // Holds a contact address: never in a shared cache, and revalidated every time (status changes on confirmation).
        return { ...r, headers: { ...r.headers, 'cache-control': 'private, no-cache' } };
      },
    },
    {
      method: 'DELETE',
      path: '/subscriptions/{id}',
      handler: async (req) => {
        const id = subscriptionIdFrom(req);
        await deleteSubscription(subs, id);
        return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' };
      },
    },
    { method: 'GET', path: '/', handler: dashboard },
    { method: 'GET', path: '/assets/{proxy+}', handler: dashboard },
  ];
  return createRouter(routes, { onError: deps.onError });
}
