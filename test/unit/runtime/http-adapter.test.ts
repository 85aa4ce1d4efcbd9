import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  compileRoutes,
  createLocalApi,
  fromHandlerResult,
  isTextContentType,
  matchRoute,
  MalformedLambdaResponseError,
  RouteConfigError,
  toApiGatewayEvent,
  type ApiGatewayV2Event,
  type LocalApi,
} from '../../../local/runtime/http-adapter';
import { silentLogger } from '../../../local/runtime/logger';
import { shapeOf } from './shape';

const fixture = (name: string): ApiGatewayV2Event => JSON.parse(readFileSync(resolve(import.meta.dirname, '../../events', name), 'utf8')) as ApiGatewayV2Event;
const noop = (): undefined => undefined;
const opts = { accountId: '123456789012', apiId: 'a1b2c3d4e5', stage: '$default' };

/** rawHeaders as Node gives them, from the fixture's (already lower-cased) headers plus its cookies. */
function rawHeadersOf(ev: ApiGatewayV2Event): string[] {
  const raw = Object.entries(ev.headers).flat();
  if (ev.cookies) raw.push('Cookie', ev.cookies.join('; '));
  return raw;
}

describe('payload format 2.0 events built by the adapter', () => {
  it.each(['apigw-v2-post-ticks.json', 'apigw-v2-get-bars.json'])('match the shape and values of %s', (name) => {
    const expected = fixture(name);
    const routes = compileRoutes([{ routeKey: 'POST /ticks', handler: noop }, { routeKey: 'GET /symbols/{symbol}/bars', handler: noop }]);
    const url = expected.rawPath + (expected.rawQueryString ? `?${expected.rawQueryString}` : '');
    const match = matchRoute(routes, expected.requestContext.http.method, expected.rawPath)!;
    const built = toApiGatewayEvent(
      { method: expected.requestContext.http.method, url, rawHeaders: rawHeadersOf(expected), body: Buffer.from(expected.body ?? ''), sourceIp: expected.requestContext.http.sourceIp, protocol: 'HTTP/1.1' },
      match.route.routeKey,
      match.pathParameters,
      { ...opts, requestId: expected.requestContext.requestId, now: new Date(expected.requestContext.timeEpoch) },
    );
    expect(shapeOf(built)).toEqual(shapeOf(expected));
    expect(built).toEqual(expected);
  });

  it('joins repeated headers and query parameters with commas, lower-cases header names', () => {
    const ev = toApiGatewayEvent(
      { method: 'GET', url: '/x?a=1&b=two%20words&a=3', rawHeaders: ['X-Multi', 'one', 'x-multi', 'two', 'Host', 'h'], body: Buffer.alloc(0), sourceIp: '1.2.3.4', protocol: 'HTTP/1.1' },
      'GET /x',
      {},
      opts,
    );
    expect(ev.headers['x-multi']).toBe('one,two');
    expect(ev.queryStringParameters).toEqual({ a: '1,3', b: 'two words' });
    expect(ev.rawQueryString).toBe('a=1&b=two%20words&a=3');
    expect('pathParameters' in ev).toBe(false);
    expect('body' in ev).toBe(false);
    expect(ev.requestContext.domainPrefix).toBe('h');
  });

  it('base64-encodes bodies whose content type is not text', () => {
    const bytes = Buffer.from([0, 255, 16, 32]);
    const ev = toApiGatewayEvent({ method: 'POST', url: '/b', rawHeaders: ['Content-Type', 'application/octet-stream'], body: bytes, sourceIp: '::1', protocol: 'HTTP/1.1' }, 'POST /b', {}, opts);
    expect(ev.isBase64Encoded).toBe(true);
    expect(ev.body).toBe('AP8QIA==');
    expect(isTextContentType('application/json; charset=utf-8')).toBe(true);
    expect(isTextContentType('application/vnd.api+json')).toBe(true);
    expect(isTextContentType('text/csv')).toBe(true);
    expect(isTextContentType('image/png')).toBe(false);
    expect(isTextContentType(undefined)).toBe(false);
  });
});

describe('route matching', () => {
  const routes = compileRoutes([
    { routeKey: 'GET /symbols/{symbol}', handler: noop },
    { routeKey: 'GET /symbols/{symbol}/bars', handler: noop },
    { routeKey: 'GET /symbols/overview', handler: noop },
    { routeKey: 'ANY /symbols/overview', handler: noop },
    { routeKey: 'GET /assets/{proxy+}', handler: noop },
    { routeKey: 'GET /', handler: noop },
  ]);
  it.each([
    ['GET', '/symbols/AAPL', 'GET /symbols/{symbol}', { symbol: 'AAPL' }],
    ['GET', '/symbols/BRK%2EB', 'GET /symbols/{symbol}', { symbol: 'BRK.B' }],
    ['GET', '/symbols/AAPL/bars', 'GET /symbols/{symbol}/bars', { symbol: 'AAPL' }],
    ['GET', '/symbols/overview', 'GET /symbols/overview', {}],
    ['DELETE', '/symbols/overview', 'ANY /symbols/overview', {}],
    ['GET', '/assets/js/app.js', 'GET /assets/{proxy+}', { proxy: 'js/app.js' }],
    ['GET', '/', 'GET /', {}],
  ])('%s %s → %s', (method, path, routeKey, params) => {
    const m = matchRoute(routes, method, path);
    expect(m?.route.routeKey).toBe(routeKey);
    expect(m?.pathParameters).toEqual(params);
  });
  it.each([['POST', '/symbols/AAPL'], ['GET', '/assets'], ['GET', '/assets/'], ['GET', '/symbols'], ['GET', '/symbols/AAPL/bars/extra']])('%s %s matches nothing', (method, path) => {
    expect(matchRoute(routes, method, path)).toBeUndefined();
  });
  it('falls back to $default', () => {
    const r = compileRoutes([{ routeKey: '$default', handler: noop }, { routeKey: 'GET /a', handler: noop }]);
    expect(matchRoute(r, 'GET', '/a')?.route.routeKey).toBe('GET /a');
    expect(matchRoute(r, 'POST', '/zzz')?.route.routeKey).toBe('$default');
  });
  it.each([
    ['GET', 'must be "$default" or "METHOD /path"'],
    ['FETCH /x', 'unknown method FETCH'],
    ['GET /a/{rest+}/b', 'must be last'],
    ['GET /a//b', 'invalid path segment'],
  ])('rejects route key %j', (routeKey, message) => {
    expect(() => compileRoutes([{ routeKey, handler: noop }])).toThrow(RouteConfigError);
    expect(() => compileRoutes([{ routeKey, handler: noop }])).toThrow(message);
  });
  it('rejects duplicate route keys', () => {
    expect(() => compileRoutes([{ routeKey: 'GET /a', handler: noop }, { routeKey: 'GET /a', handler: noop }])).toThrow('defined twice');
  });
});

describe('handler results', () => {
  it('uses a structured result as given, decoding base64 bodies', () => {
    const r = fromHandlerResult({ statusCode: 201, headers: { 'X-Id': 7, 'Content-Type': 'image/png' }, cookies: ['a=1', 'b=2; HttpOnly'], body: 'AP8=', isBase64Encoded: true });
    expect(r).toEqual({ statusCode: 201, headers: { 'x-id': '7', 'content-type': 'image/png' }, cookies: ['a=1', 'b=2; HttpOnly'], body: Buffer.from([0, 255]) });
  });
  it('turns anything without statusCode into 200 application/json', () => {
    expect(fromHandlerResult({ ok: true })).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from('{"ok":true}') });
    expect(fromHandlerResult('plain').body.toString()).toBe('plain');
    expect(fromHandlerResult(undefined).body.toString()).toBe('null');
  });
  it.each([[{ statusCode: '200' }], [{ statusCode: 42 }], [{ statusCode: 200, body: { a: 1 } }], [{ statusCode: 200, cookies: 'a=1' }], [{ statusCode: 200, headers: { a: { b: 1 } } }]])('rejects the malformed result %j', (result) => {
    expect(() => fromHandlerResult(result)).toThrow(MalformedLambdaResponseError);
  });
});

function call(api: LocalApi, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolveCall, reject) => {
    const req = request(`${api.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveCall({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('local HTTP API server', () => {
  let api: LocalApi;
  const seen: ApiGatewayV2Event[] = [];
  beforeAll(async () => {
    api = await createLocalApi({
      port: 0,
      logger: silentLogger,
      routes: [
        { routeKey: 'POST /ticks', handler: (ev) => { seen.push(ev); return { statusCode: 202, headers: { 'content-type': 'application/json' }, cookies: ['s=1', 't=2'], body: JSON.stringify({ accepted: 1 }) }; } },
        { routeKey: 'GET /boom', handler: () => { throw new Error('bug'); } },
        { routeKey: 'GET /slow', timeoutMs: 50, handler: () => new Promise((r) => setTimeout(r, 1000)) },
        { routeKey: 'GET /text', handler: () => 'hello' },
      ],
    });
  });
  afterAll(async () => {
    await api.close();
  });

  it('invokes the matched handler with a 2.0 event and writes its response, cookies as Set-Cookie', async () => {
    const res = await call(api, 'POST', '/ticks?x=1', Buffer.from('{"symbol":"AAPL"}'), { 'content-type': 'application/json', cookie: 'c1=v1; c2=v2' });
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body.toString())).toEqual({ accepted: 1 });
    expect(res.headers['set-cookie']).toEqual(['s=1', 't=2']);
    expect(res.headers['apigw-requestid']).toBeDefined();
    const ev = seen[0]!;
    expect(ev).toMatchObject({ version: '2.0', routeKey: 'POST /ticks', rawPath: '/ticks', rawQueryString: 'x=1', cookies: ['c1=v1', 'c2=v2'], body: '{"symbol":"AAPL"}', isBase64Encoded: false });
    expect(ev.requestContext.http.method).toBe('POST');
    expect(ev.headers.cookie).toBeUndefined();
  });

  it('answers 404 JSON for an unknown route', async () => {
    const res = await call(api, 'GET', '/nope');
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString())).toEqual({ message: 'Not Found' });
  });

  it('answers 500 JSON when a handler throws, and keeps serving', async () => {
    const res = await call(api, 'GET', '/boom');
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body.toString())).toEqual({ message: 'Internal Server Error' });
    expect((await call(api, 'GET', '/text')).status).toBe(200);
  });

  it('answers 503 when the handler outlives its timeout', async () => {
    const res = await call(api, 'GET', '/slow');
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body.toString())).toEqual({ message: 'Service Unavailable' });
  });

  it('serves a string result as a 200 application/json body', async () => {
    const res = await call(api, 'GET', '/text');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body.toString()).toBe('hello');
  });

  it('refuses payloads over 10 MB with 413 before invoking the handler', async () => {
    const before = seen.length;
    const res = await call(api, 'POST', '/ticks', Buffer.alloc(10 * 1024 * 1024 + 1, 'a'), { 'content-type': 'text/plain' });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body.toString())).toEqual({ message: 'Request Entity Too Large' });
    expect(seen.length).toBe(before);
  });

  it('refuses events over the 6 MB Lambda invoke limit with 413', async () => {
    const before = seen.length;
    const res = await call(api, 'POST', '/ticks', Buffer.alloc(7 * 1024 * 1024, 'a'), { 'content-type': 'text/plain' });
    expect(res.status).toBe(413);
    expect(seen.length).toBe(before);
  });
});
