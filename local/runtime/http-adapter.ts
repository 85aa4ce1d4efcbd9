/**
 * Local stand-in for an API Gateway HTTP API with Lambda proxy integrations
 * (payload format 2.0): Node HTTP requests become 2.0 events, handler results
 * become HTTP responses, with API Gateway's routing precedence, its error bodies
 * and its size limits.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HandlerTimeoutError, invokeWithTimeout, type LambdaContext } from './lambda-context';
import { createConsoleLogger, describeError, type RuntimeLogger } from './logger';

export interface ApiGatewayV2Event {
  version: '2.0';
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
  };
  pathParameters?: Record<string, string>;
  body?: string;
  isBase64Encoded: boolean;
}

export interface ApiGatewayV2StructuredResult {
  statusCode: number;
  headers?: Record<string, string | number | boolean>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

export type HttpHandler = (event: ApiGatewayV2Event, context: LambdaContext) => unknown;

export interface RouteDefinition {
  /** `$default`, or `METHOD /path` with `{param}` segments and an optional final `{name+}` greedy segment. */
  routeKey: string;
  handler: HttpHandler;
  /** Shown in logs and the Lambda context. Default `http`. */
  functionName?: string;
  /** Lambda function timeout for this route; capped by the API's integration timeout. */
  timeoutMs?: number;
}

export class RouteConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouteConfigError';
  }
}

type Segment = { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'greedy'; name: string };

export interface CompiledRoute {
  routeKey: string;
  method: string;
  segments: Segment[];
  isDefault: boolean;
  route: RouteDefinition;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY']);

export function compileRoute(route: RouteDefinition): CompiledRoute {
  if (route.routeKey === '$default') return { routeKey: '$default', method: 'ANY', segments: [], isDefault: true, route };
  const m = /^([A-Z]+) (\/\S*)$/.exec(route.routeKey);
  if (!m) throw new RouteConfigError(`routeKey "${route.routeKey}" must be "$default" or "METHOD /path"`);
  const method = m[1]!;
  const path = m[2]!;
  if (!METHODS.has(method)) throw new RouteConfigError(`routeKey "${route.routeKey}": unknown method ${method}`);
  const parts = path === '/' ? [] : path.slice(1).split('/');
  const segments = parts.map((p, i): Segment => {
    const param = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/.exec(p);
    if (!param) {
      if (p === '' || /[{}]/.test(p)) throw new RouteConfigError(`routeKey "${route.routeKey}": invalid path segment "${p}"`);
      return { kind: 'literal', value: p };
    }
    if (param[2] === '+') {
      if (i !== parts.length - 1) throw new RouteConfigError(`routeKey "${route.routeKey}": a greedy {${param[1]}+} segment must be last`);
      return { kind: 'greedy', name: param[1]! };
    }
    return { kind: 'param', name: param[1]! };
  });
  return { routeKey: `${method} ${path}`, method, segments, isDefault: false, route };
}

export function compileRoutes(routes: RouteDefinition[]): CompiledRoute[] {
  const compiled = routes.map(compileRoute);
  const seen = new Set<string>();
  for (const c of compiled) {
    if (seen.has(c.routeKey)) throw new RouteConfigError(`routeKey "${c.routeKey}" is defined twice`);
    seen.add(c.routeKey);
  }
  return compiled;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.kind === 'greedy') {
      const rest = parts.slice(i);
      if (rest.length === 0 || rest.every((p) => p === '')) return undefined;
      params[seg.name] = safeDecode(rest.join('/'));
      return params;
    }
    const part = parts[i];
    if (part === undefined || part === '') return undefined;
    if (seg.kind === 'literal' && seg.value !== part) return undefined;
    if (seg.kind === 'param') params[seg.name] = safeDecode(part);
  }
  return parts.length === segments.length ? params : undefined;
}

/** Orders matches the way API Gateway picks "the most specific route": literal beats {param} beats {greedy+}, a method beats ANY. */
function specificity(c: CompiledRoute): number[] {
  const rank = c.segments.map((s) => (s.kind === 'literal' ? 3 : s.kind === 'param' ? 2 : 1));
  return [...rank, 0, c.method === 'ANY' ? 0 : 1];
}

function compareSpecificity(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (b[i] ?? -1) - (a[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

export function matchRoute(routes: CompiledRoute[], method: string, rawPath: string): { route: CompiledRoute; pathParameters: Record<string, string> } | undefined {
  const parts = rawPath === '/' ? [] : rawPath.slice(1).split('/');
  const candidates: { route: CompiledRoute; pathParameters: Record<string, string> }[] = [];
  for (const r of routes) {
    if (r.isDefault || (r.method !== 'ANY' && r.method !== method)) continue;
    const params = matchSegments(r.segments, parts);
    if (params) candidates.push({ route: r, pathParameters: params });
  }
  candidates.sort((a, b) => compareSpecificity(specificity(a.route), specificity(b.route)));
  if (candidates[0]) return candidates[0];
  const fallback = routes.find((r) => r.isDefault);
  return fallback ? { route: fallback, pathParameters: {} } : undefined;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|graphql|x-ndjson)\b|application\/[\w.+-]+\+(json|xml)\b)/i;

/** Bodies API Gateway passes as text; anything else reaches the function base64-encoded. */
export function isTextContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && TEXT_TYPES.test(contentType.trim());
}

function apiGatewayTime(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export interface RequestInfo {
  method: string;
  /** Path plus query, as on the request line. */
  url: string;
  /** Node's rawHeaders: [name, value, name, value, ...]. */
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
  protocol: string;
}

export interface EventOptions {
  accountId: string;
  apiId: string;
  stage: string;
  now?: Date;
  requestId?: string;
}

/** Builds the payload format 2.0 event for a matched request. */
export function toApiGatewayEvent(req: RequestInfo, routeKey: string, pathParameters: Record<string, string> | undefined, opts: EventOptions): ApiGatewayV2Event {
  const q = req.url.indexOf('?');
  const rawPath = q >= 0 ? req.url.slice(0, q) : req.url;
  const rawQueryString = q >= 0 ? req.url.slice(q + 1) : '';
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    if (name === 'cookie') {
      cookies.push(...value.split(';').map((c) => c.trim()).filter((c) => c !== ''));
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  headers['x-forwarded-for'] ??= req.sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const now = opts.now ?? new Date();
  const host = headers.host ?? 'localhost';
  const event: ApiGatewayV2Event = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: opts.accountId,
      apiId: opts.apiId,
      domainName: host,
      domainPrefix: host.split(/[.:]/)[0] ?? host,
      http: { method: req.method, path: rawPath, protocol: req.protocol, sourceIp: req.sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: opts.requestId ?? `${randomBytes(10).toString('base64').replace(/[+/=]/g, '').slice(0, 14)}=`,
      routeKey,
      stage: opts.stage,
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    ...(pathParameters && Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    isBase64Encoded: false,
  };
  if (req.body.length > 0) {
    if (isTextContentType(headers['content-type'])) {
      event.body = req.body.toString('utf8');
    } else {
      event.body = req.body.toString('base64');
      event.isBase64Encoded = true;
    }
  }
  return event;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

export class MalformedLambdaResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedLambdaResponse';
  }
}

export function jsonResponse(statusCode: number, payload: unknown): HttpResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(JSON.stringify(payload)) };
}

/**
 * Interprets a handler result per the 2.0 response rules: an object with
 * statusCode is used as given; anything else becomes a 200 application/json
 * response whose body is the result (a string as-is, other values as JSON).
 * Throws MalformedLambdaResponseError where API Gateway would answer 500.
 */
export function fromHandlerResult(result: unknown): HttpResponse {
  if (result !== null && typeof result === 'object' && 'statusCode' in result) {
    const r = result as Partial<ApiGatewayV2StructuredResult> & Record<string, unknown>;
    if (typeof r.statusCode !== 'number' || !Number.isInteger(r.statusCode) || r.statusCode < 100 || r.statusCode > 599) {
      throw new MalformedLambdaResponseError(`statusCode must be an integer 100..599, got ${JSON.stringify(r.statusCode)}`);
    }
    if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') {
      throw new MalformedLambdaResponseError(`body must be a string, got ${typeof r.body} (JSON.stringify it)`);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new MalformedLambdaResponseError(`header "${k}" must be a string, number or boolean`);
      }
      headers[k.toLowerCase()] = String(v);
    }
    if (r.cookies !== undefined && (!Array.isArray(r.cookies) || r.cookies.some((c) => typeof c !== 'string'))) {
      throw new MalformedLambdaResponseError('cookies must be an array of strings');
    }
    const body = typeof r.body === 'string' ? Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
    return { statusCode: r.statusCode, headers, cookies: r.cookies ?? [], body };
  }
  const text = typeof result === 'string' ? result : JSON.stringify(result ?? null);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(text, 'utf8') };
}

/** API Gateway HTTP API and Lambda limits the adapter enforces. */
export const LIMITS = {
  /** HTTP API maximum request payload. */
  maxRequestBytes: 10 * 1024 * 1024,
  /** Lambda synchronous invocation request and response payload. */
  maxInvokePayloadBytes: 6 * 1024 * 1024,
  /** HTTP API maximum integration timeout. */
  integrationTimeoutMs: 30_000,
} as const;

export interface LocalApiOptions {
  routes: RouteDefinition[];
  /** 0 picks a free port. Default 3000. */
  port?: number;
  host?: string;
  stage?: string;
  apiId?: string;
  accountId?: string;
  logger?: RuntimeLogger;
}

export interface LocalApi {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Collects the body, giving up (without destroying the socket, so a 413 can still be sent) past the limit. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function send(res: ServerResponse, r: HttpResponse, requestId: string, closeConnection = false): void {
  const headers: Record<string, string | string[]> = { ...r.headers, 'apigw-requestid': requestId, 'content-length': String(r.body.length) };
  if (r.cookies.length > 0) headers['set-cookie'] = r.cookies;
  if (closeConnection) headers.connection = 'close';
  res.writeHead(r.statusCode, headers);
  res.end(r.body);
}

/** Serves the routes until close(). Resolves once listening. */
export async function createLocalApi(opts: LocalApiOptions): Promise<LocalApi> {
  const routes = compileRoutes(opts.routes);
  const logger = opts.logger ?? createConsoleLogger('http');
  const eventOpts = { accountId: opts.accountId ?? '000000000000', apiId: opts.apiId ?? 'local', stage: opts.stage ?? '$default' };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const requestId = `${randomBytes(10).toString('base64').replace(/[+/=]/g, '').slice(0, 14)}=`;
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const body = await readBody(req, LIMITS.maxRequestBytes);
    if (body === 'too-large') {
      res.once('finish', () => req.destroy());
      send(res, jsonResponse(413, { message: 'Request Entity Too Large' }), requestId, true);
      return;
    }
    const match = matchRoute(routes, method, url.split('?')[0] ?? '/');
    if (!match) {
      send(res, jsonResponse(404, { message: 'Not Found' }), requestId);
      return;
    }
    const { route } = match;
    const functionName = route.route.functionName ?? 'http';
    const event = toApiGatewayEvent(
      { method, url, rawHeaders: req.rawHeaders, body, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', protocol: `HTTP/${req.httpVersion}` },
      route.routeKey,
      match.pathParameters,
      { ...eventOpts, requestId },
    );
    let response: HttpResponse;
    if (Buffer.byteLength(JSON.stringify(event)) > LIMITS.maxInvokePayloadBytes) {
      response = jsonResponse(413, { message: 'Request Entity Too Large' });
    } else {
      const timeoutMs = Math.min(route.route.timeoutMs ?? LIMITS.integrationTimeoutMs, LIMITS.integrationTimeoutMs);
      try {
        const result = await invokeWithTimeout(route.route.handler, event, functionName, timeoutMs);
        if (result !== undefined && Buffer.byteLength(JSON.stringify(result) ?? '') > LIMITS.maxInvokePayloadBytes) {
          throw new MalformedLambdaResponseError('response payload exceeds the 6 MB Lambda limit');
        }
        response = fromHandlerResult(result);
      } catch (err) {
        if (err instanceof HandlerTimeoutError) {
          logger.error('handler timed out', { function: functionName, routeKey: route.routeKey, requestId, timeoutMs });
          response = jsonResponse(503, { message: 'Service Unavailable' });
        } else {
          // Handlers should turn bad input into 4xx themselves; reaching here is a bug worth a loud log.
          logger.error('handler failed', { function: functionName, routeKey: route.routeKey, requestId, error: describeError(err), stack: err instanceof Error ? err.stack : undefined });
          response = jsonResponse(500, { message: 'Internal Server Error' });
        }
      }
    }
    send(res, response, requestId);
    logger.debug('request', { method, path: event.rawPath, routeKey: route.routeKey, status: response.statusCode, ms: Date.now() - started });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error('request handling failed', { error: describeError(err) });
      if (!res.headersSent) send(res, jsonResponse(500, { message: 'Internal Server Error' }), 'internal');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 3000, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
