import { afterAll, describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { buildOpenApiDocument } from '../../../shared/api/openapi';
import { createRouter } from '../../../shared/api/router';
import { json } from '../../../shared/http/response';
import { openStore } from '../../../shared/store/db';
import { querySignals } from '../../../shared/store/queries';
import { tempDir } from '../store/helpers';

function event(method: string, rawPath: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: {},
    requestContext: { http: { method, path: rawPath } } as APIGatewayProxyEventV2['requestContext'],
    isBase64Encoded: false,
  };
}

const errors: unknown[] = [];
const route = createRouter(
  [
    { method: 'GET', path: '/symbols/{symbol}', handler: ({ params }) => json(200, { route: 'symbol', params }) },
    { method: 'GET', path: '/symbols/{symbol}/bars', handler: ({ params }) => json(200, { route: 'bars', params }) },
    { method: 'DELETE', path: '/subscriptions/{id}', handler: ({ params }) => json(200, { route: 'delete', params }) },
    { method: 'GET', path: '/assets/{proxy+}', handler: ({ params }) => json(200, { route: 'assets', params }) },
    { method: 'GET', path: '/', handler: () => json(200, { route: 'root' }) },
    { method: 'GET', path: '/boom', handler: () => { throw new Error('bug'); } },
  ],
  { onError: (err) => errors.push(err) },
);

const body = (r: { body?: string }) => JSON.parse(r.body ?? 'null') as Record<string, unknown>;

describe('router', () => {
  it('matches literal and parameter segments and percent-decodes parameters once', async () => {
    expect(body(await route(event('GET', '/symbols/BRK.B')))).toEqual({ route: 'symbol', params: { symbol: 'BRK.B' } });
    expect(body(await route(event('GET', '/symbols/..%2F..%2Fetc%2Fpasswd/bars')))).toEqual({ route: 'bars', params: { symbol: '../../etc/passwd' } });
    expect(body(await route(event('GET', '/symbols/%252F')))).toEqual({ route: 'symbol', params: { symbol: '%2F' } });
    expect(body(await route(event('GET', '/symbols/AAPL/')))).toEqual({ route: 'symbol', params: { symbol: 'AAPL' } });
  });

  it('matches greedy segments and the root', async () => {
    expect(body(await route(event('GET', '/assets/js/app.js')))).toEqual({ route: 'assets', params: { proxy: 'js/app.js' } });
    expect(body(await route(event('GET', '/')))).toEqual({ route: 'root' });
  });

  it('answers 404 for unknown paths, 405 with Allow for a known path with another method', async () => {
    const missing = await route(event('GET', '/symbols'));
    expect(missing.statusCode).toBe(404);
    expect(body(missing)).toEqual({ error: { code: 'not_found', message: 'No route for GET /symbols' } });
    expect((await route(event('GET', '/symbols//bars'))).statusCode).toBe(404);
    const wrong = await route(event('POST', '/subscriptions/abc'));
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toBe('DELETE');
  });

  it('answers 400 for a malformed percent-escape', async () => {
    const r = await route(event('GET', '/symbols/%E0%A4%A'));
    expect(r.statusCode).toBe(400);
    expect(body(r)).toMatchObject({ error: { code: 'invalid_path' } });
  });

  it('answers HEAD like GET without a body', async () => {
    const r = await route(event('HEAD', '/symbols/AAPL'));
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe('');
  });

  it('answers 414 for absurdly long paths and hides bugs behind a bare 500', async () => {
    expect((await route(event('GET', `/symbols/${'A'.repeat(5000)}`))).statusCode).toBe(414);
    const r = await route(event('GET', '/boom'));
    expect(r.statusCode).toBe(500);
    expect(body(r)).toEqual({ error: { code: 'internal_error', message: 'Internal error' } });
    expect(errors).toHaveLength(1);
  });
});

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument() as {
    openapi: string;
    paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: unknown }>>;
    components: { schemas: Record<string, unknown> };
  };

  it('is OpenAPI 3.1 and covers every route of the contract', () => {
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));
    expect(ops.sort()).toEqual(
      [
        'GET /health', 'GET /symbols', 'GET /symbols/{symbol}', 'GET /symbols/{symbol}/bars', 'GET /signals', 'GET /market/overview',
        'GET /openapi.json', 'POST /subscriptions', 'GET /subscriptions/{id}', 'DELETE /subscriptions/{id}', 'POST /ticks', 'POST /ingest',
        'GET /', 'GET /assets/{path}',
      ].sort(),
    );
  });

  it('documents the query parameters from the validating schemas', () => {
    const names = (p: string) => (doc.paths[p]!.get!.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name).sort();
    expect(names('/symbols/{symbol}/bars')).toEqual(['cursor', 'from', 'interval', 'limit', 'order', 'to']);
    expect(names('/signals')).toEqual(['cursor', 'limit', 'rule', 'side', 'since', 'symbol']);
  });

  it('has no dangling $ref and carries the ingest record schema', () => {
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref' && typeof x === 'string') refs.push(x);
          else walk(x);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(5);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.replace('#/components/schemas/', '')]).toBeDefined();
    }
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['PriceRecord', 'Bar', 'Signal', 'SymbolDetail', 'Error', 'SubscriptionRequest']));
  });
});

describe('router and a busy store', () => {
  const tmp = tempDir('router-busy-');
  afterAll(() => tmp.cleanup());

  it('answers 503 with Retry-After when the writer holds the lock past the busy timeout', async () => {
    const path = tmp.file();
    const writer = openStore(path);
    const reader = openStore(path, { readonly: true, busyTimeoutMs: 0 });
    const busy = createRouter([{ method: 'GET', path: '/signals', handler: () => json(200, querySignals(reader, { limit: 10 })) }]);
    writer.exec('BEGIN EXCLUSIVE');
    try {
      const r = await busy(event('GET', '/signals'));
      expect(r.statusCode).toBe(503);
      expect(r.headers['retry-after']).toBe('1');
    } finally {
      writer.exec('COMMIT');
    }
    expect((await busy(event('GET', '/signals'))).statusCode).toBe(200);
  });
});
