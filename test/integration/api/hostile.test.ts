import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createRedis, type RedisClient } from '../../../shared/adapters/redis';
import { createApi } from '../../../shared/api/app';
import { loadApiConfig } from '../../../shared/api/config';
import type { HttpResult } from '../../../shared/http/response';
import { readOnlyStore, statement, type Db } from '../../../shared/store/db';
import { tempDir } from '../../unit/store/helpers';
import { seedStore, type Symbols } from './fixture';
import { bodyOf, httpEvent, snsClient, TEST_REDIS_URL, uniqueSymbol } from './helpers';

/**
 * Issue 8, "Query API": SQL injection, path traversal, over-long symbols,
 * limit=1e9 and bad cursors get a 400 or 404 with a JSON error, never a 5xx, and
 * the store is unchanged afterwards.
 */

const tmp = tempDir('api-hostile-');
const sym: Symbols = { A: uniqueSymbol(), B: uniqueSymbol(), C: uniqueSymbol() };
const config = loadApiConfig({ SQLITE_PATH: tmp.file('market.db'), SIGNAL_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:unused' });
const sns = snsClient();
let writer: Db;
let redis: RedisClient;
let api: ReturnType<typeof createApi>;

beforeAll(() => {
  writer = seedStore(config.sqlitePath, sym);
  redis = createRedis({ url: TEST_REDIS_URL, cluster: false });
  api = createApi({ db: readOnlyStore(config.sqlitePath).get, redis, sns, config });
});

afterAll(async () => {
  await redis.quit();
  sns.destroy();
  tmp.cleanup();
});

function expectClientError(r: HttpResult, allowed: number[], context: string): void {
  expect({ context, status: allowed.includes(r.statusCode) ? 'ok' : r.statusCode }).toEqual({ context, status: 'ok' });
  const body = bodyOf<{ error?: { code?: unknown; message?: unknown } }>(r);
  expect(typeof body.error?.code).toBe('string');
  expect(typeof body.error?.message).toBe('string');
  expect(r.headers['content-type']).toMatch(/^application\/json/);
}

const tableCounts = () => {
  const names = statement<[], string>(writer, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", 'pluck').all();
  return Object.fromEntries(names.map((n) => [n, statement<[], number>(writer, `SELECT count(*) FROM "${n}"`, 'pluck').get()]));
};

describe('hostile requests', () => {
  const cases: [string, number[]][] = [
    // SQL injection in path and query
    ["/symbols/AAPL'%20OR%20'1'%3D'1", [400]],
    ['/symbols/AAPL%3BDROP%20TABLE%20bars', [400]],
    ["/symbols/A'--/bars", [400]],
    ["/signals?symbol=X'%20OR%201%3D1--", [400]],
    ['/signals?side=BUY%27%20OR%20%271%27%3D%271', [400]],
    ["/signals?rule=x'%3B%20DELETE%20FROM%20signals", [400]],
    ['/signals?since=1%20OR%201%3D1', [400]],
    // Path traversal, encoded once and twice, and odd bytes
    ['/symbols/..%2F..%2Fetc%2Fpasswd', [400]],
    ['/symbols/..%2F..%2Fetc%2Fpasswd/bars', [400]],
    ['/symbols/%2e%2e%2f%2e%2e%2fetc%2fpasswd', [400]],
    ['/symbols/..%252F..%252Fetc', [400]],
    ['/symbols/..', [404]],
    ['/symbols/../health', [404]],
    ['/symbols/%00', [400]],
    ['/symbols/%E0%A4%A', [400]],
    ['/symbols/%F0%9F%92%A9', [400]],
    // Over-long symbols
    [`/symbols/${'A'.repeat(13)}`, [400]],
    [`/symbols/${'A'.repeat(10_000)}/bars`, [400, 414]],
    // Limits: always enforced, never silently capped
    [`/symbols/${sym.A}/bars?limit=1e9`, [400]],
    [`/symbols/${sym.A}/bars?limit=1000000000`, [400]],
    [`/symbols/${sym.A}/bars?limit=-1`, [400]],
    [`/symbols/${sym.A}/bars?limit=0`, [400]],
    [`/symbols/${sym.A}/bars?limit=1&limit=2`, [400]],
    ['/signals?limit=1e9', [400]],
    ['/signals?limit=Infinity', [400]],
    // Cursors
    [`/symbols/${sym.A}/bars?cursor=garbage`, [400]],
    [`/symbols/${sym.A}/bars?cursor=${'A'.repeat(600)}`, [400]],
    [`/symbols/${sym.A}/bars?cursor=eyJ2IjoxLCJyIjoiYmFycyIsImYiOiJ4IiwiayI6MX0`, [400]],
    ['/signals?cursor=%22%3B%20DROP%20TABLE%20signals', [400]],
    [`/signals?cursor=${Buffer.from('{"v":1,"r":"signals","f":"x","k":{"barTime":"1 OR 1=1","id":1}}').toString('base64url')}`, [400]],
    // Other bad parameters
    [`/symbols/${sym.A}/bars?interval=2m`, [400]],
    [`/symbols/${sym.A}/bars?from=tomorrow`, [400]],
    [`/symbols/${sym.A}/bars?from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z`, [400]],
    [`/symbols/${sym.A}/bars?__proto__=1`, [400]],
    [`/symbols/${sym.A}/bars?constructor=1`, [400]],
    ['/symbols?x=1', [400]],
    ['/market/overview?debug=true', [400]],
    // Unknown routes, unknown symbols
    [`/symbols/${uniqueSymbol()}`, [404]],
    [`/symbols/${uniqueSymbol()}/bars`, [404]],
    ['/admin', [404]],
    ['/subscriptions/..%2F..%2Fsecret', [400, 503]],
  ];

  it.each(cases)('GET %s → 4xx with a JSON error', async (path, allowed) => {
    expectClientError(await api(httpEvent('GET', path)), allowed, path);
  });

  it('leaves the store unchanged after all of them', async () => {
    const before = tableCounts();
    for (const [path] of cases) await api(httpEvent('GET', path));
    expect(tableCounts()).toEqual(before);
  });

  it('never answers 5xx to arbitrary path segments and query values (property)', async () => {
    const routes = [(s: string) => `/symbols/${s}`, (s: string) => `/symbols/${s}/bars`, (s: string) => `/symbols/${sym.A}/bars?cursor=${s}`];
    const params = ['limit', 'from', 'to', 'interval', 'order', 'cursor', 'symbol', 'side', 'since', 'rule'];
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 64 }),
        fc.constantFrom(...routes),
        fc.constantFrom(...params),
        fc.string({ unit: 'binary', maxLength: 64 }),
        async (segment, route, param, value) => {
          const a = await api(httpEvent('GET', route(encodeURIComponent(segment))));
          expect(a.statusCode).toBeLessThan(500);
          const b = await api(httpEvent('GET', `/signals?${param}=${encodeURIComponent(value)}`));
          expect(b.statusCode).toBeLessThan(500);
          const c = await api(httpEvent('GET', `/symbols/${sym.A}/bars?${param}=${encodeURIComponent(value)}`));
          expect(c.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('answers well-formed requests after the barrage', async () => {
    const r = await api(httpEvent('GET', `/symbols/${sym.A}/bars?limit=1000`));
    expect(r.statusCode).toBe(200);
    expect(bodyOf<{ items: unknown[] }>(r).items).toHaveLength(3);
  });
});
