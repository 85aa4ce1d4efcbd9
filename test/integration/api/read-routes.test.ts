import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import { createRedis, keys, type RedisClient } from '../../../shared/adapters/redis';
import { createApi } from '../../../shared/api/app';
import { loadApiConfig } from '../../../shared/api/config';
import {
  BarPageSchema,
  HealthSchema,
  MarketOverviewSchema,
  SignalPageSchema,
  SymbolDetailSchema,
  SymbolListSchema,
} from '../../../shared/api/schemas';
import { readOnlyStore } from '../../../shared/store/db';
import { tempDir } from '../../unit/store/helpers';
import { DAY, MIN, NOW, seedStore, snapshotOf, type Symbols } from './fixture';
import { bodyOf, httpEvent, snsClient, TEST_REDIS_URL, uniqueSymbol } from './helpers';

const tmp = tempDir('api-read-');
const sym: Symbols = { A: uniqueSymbol(), B: uniqueSymbol(), C: uniqueSymbol() };
let redis: RedisClient;
const sns = snsClient();
const config = loadApiConfig({ SQLITE_PATH: tmp.file('market.db'), SIGNAL_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:unused' });
const db = readOnlyStore(config.sqlitePath).get;
let api: ReturnType<typeof createApi>;

beforeAll(async () => {
  seedStore(config.sqlitePath, sym);
  redis = createRedis({ url: TEST_REDIS_URL, cluster: false });
  await redis.set(keys.snapshot(sym.A), JSON.stringify(snapshotOf(sym.A, 55, DAY + 13.5 * 3_600_000 + MIN + 30_000)));
  await redis.set(keys.snapshot(sym.C), JSON.stringify(snapshotOf(sym.C, 7, DAY + 13 * 3_600_000)));
  await redis.sadd(keys.symbols, sym.A, sym.C);
  api = createApi({ db, redis, sns, config, now: () => NOW });
});

afterAll(async () => {
  await redis.del(keys.snapshot(sym.A), keys.snapshot(sym.C));
  await redis.srem(keys.symbols, sym.A, sym.C);
  await redis.quit();
  sns.destroy();
  tmp.cleanup();
});

/** Parses a 200 body against its documented schema: the response contract is checked, not just the values. */
async function get<S extends z.ZodType>(path: string, schema: S, headers?: Record<string, string>): Promise<z.output<S>> {
  const r = await api(httpEvent('GET', path, { headers }));
  expect({ path, status: r.statusCode, body: r.statusCode === 200 ? undefined : r.body }).toEqual({ path, status: 200, body: undefined });
  return schema.parse(bodyOf(r));
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('GET /health', () => {
  it('reports both stores reachable', async () => {
    const h = await get('/health', HealthSchema);
    expect(h.status).toBe('ok');
    expect(h.checks.redis.status).toBe('ok');
    expect(h.checks.sqlite).toMatchObject({ status: 'ok', schemaVersion: 1 });
  });

  it('is healthy with an empty store before the aggregate stage has written anything', async () => {
    const fresh = createApi({ db: readOnlyStore(tmp.file('not-yet.db')).get, redis, sns, config });
    const r = await fresh(httpEvent('GET', '/health'));
    expect(r.statusCode).toBe(200);
    expect(HealthSchema.parse(bodyOf(r)).checks.sqlite.status).toBe('empty');
  });

  it('answers 503 naming the store that is down', async () => {
    // A real client against a port nothing listens on, giving up at once instead of reconnecting.
    const dead = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    dead.on('error', () => undefined);
    try {
      const broken = createApi({
        db: () => { throw new Error('no such file'); },
        redis: dead,
        sns,
        config: { ...config, redisTimeoutMs: 300 },
      });
      const r = await broken(httpEvent('GET', '/health'));
      expect(r.statusCode).toBe(503);
      const h = HealthSchema.parse(bodyOf(r));
      expect(h).toMatchObject({ status: 'degraded', checks: { redis: { status: 'error' }, sqlite: { status: 'error', error: 'no such file' } } });
      expect(r.headers['cache-control']).toBe('no-store');
    } finally {
      if (dead.status !== 'end') dead.disconnect();
    }
  });
});

describe('GET /symbols and /symbols/{symbol}', () => {
  it('merges Redis snapshots with the SQLite store, with change vs the previous close', async () => {
    const list = await get('/symbols', SymbolListSchema);
    const mine = list.items.filter((i) => Object.values(sym).includes(i.symbol));
    const bySymbol = Object.fromEntries(mine.map((i) => [i.symbol, i]));
    // A: 55 vs the previous daily close 50. B: no earlier day, so 18 vs its open 20. C: no daily bar yet.
    expect(bySymbol[sym.A]).toEqual({ symbol: sym.A, lastPrice: 55, lastTimestamp: iso(DAY + 13.5 * 3_600_000 + MIN + 30_000), changePct: 10, indicators: { ma: 53, ema: 53.5, rsi: 61.25 } });
    expect(bySymbol[sym.B]).toEqual({ symbol: sym.B, lastPrice: 18, lastTimestamp: iso(DAY + 10 * 3_600_000), changePct: -10, indicators: { ma: null, ema: null, rsi: null } });
    expect(bySymbol[sym.C]).toMatchObject({ lastPrice: 7, changePct: null });
  });

  it('returns the latest values, the open bar and the stream events of one symbol', async () => {
    const d = await get(`/symbols/${sym.A}`, SymbolDetailSchema);
    expect(d).toEqual({
      symbol: sym.A,
      lastPrice: 55,
      lastTimestamp: iso(DAY + 13.5 * 3_600_000 + MIN + 30_000),
      changePct: 10,
      indicators: { ma: 53, ema: 53.5, rsi: 61.25 },
      openBar: { time: iso(DAY + 13.5 * 3_600_000 + MIN), open: 55, high: 55, low: 55, close: 55, volume: 20, vwap: 55, trades: 1, provisional: { ma: 53.1, ema: 53.6, rsi: 62 } },
      sentiment: { score: 0.4, magnitude: 0.7, timestamp: iso(DAY + 12 * 3_600_000) },
      marketData: { marketCap: 2.5e12, peRatio: 28.5, timestamp: iso(DAY + 12 * 3_600_000) },
      orderBook: { bid: { price: 54.9, quantity: 100, timestamp: iso(DAY + 12 * 3_600_000) }, ask: null },
    });
    expect((await get(`/symbols/${sym.A.toLowerCase()}`, SymbolDetailSchema)).symbol).toBe(sym.A);
    expect((await get(`/symbols/${sym.B}`, SymbolDetailSchema)).openBar).toBeNull();
  });

  it('answers 404 for a symbol no store knows', async () => {
    const r = await api(httpEvent('GET', `/symbols/${uniqueSymbol()}`));
    expect(r.statusCode).toBe(404);
    expect(bodyOf(r)).toMatchObject({ error: { code: 'not_found' } });
  });

  it('serves ETag and Cache-Control, and 304 when the client has the current version', async () => {
    const first = await api(httpEvent('GET', `/symbols/${sym.A}`));
    expect(first.headers['cache-control']).toMatch(/max-age=\d+/);
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await api(httpEvent('GET', `/symbols/${sym.A}`, { headers: { 'if-none-match': etag } }));
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const stale = await api(httpEvent('GET', `/symbols/${sym.A}`, { headers: { 'if-none-match': '"old"' } }));
    expect(stale.statusCode).toBe(200);
  });
});

describe('GET /symbols/{symbol}/bars', () => {
  it('returns bars with ISO times, and the same bars page by page through nextCursor', async () => {
    const all = await get(`/symbols/${sym.A}/bars?interval=1m&limit=1000`, BarPageSchema);
    expect(all.items.map((b) => b.time)).toEqual([iso(DAY - 3_600_000), iso(DAY + 13.5 * 3_600_000), iso(DAY + 13.5 * 3_600_000 + MIN)]);
    expect(all.items[1]).toEqual({ time: iso(DAY + 13.5 * 3_600_000), open: 52, high: 52, low: 52, close: 52, volume: 10, vwap: 52, trades: 1 });
    expect(all.nextCursor).toBeNull();

    const paged: string[] = [];
    let url = `/symbols/${sym.A}/bars?interval=1m&limit=1`;
    for (let i = 0; i < 10; i++) {
      const page = await get(url, BarPageSchema);
      paged.push(...page.items.map((b) => b.time));
      if (!page.nextCursor) break;
      url = `/symbols/${sym.A}/bars?interval=1m&limit=1&cursor=${page.nextCursor}`;
    }
    expect(paged).toEqual(all.items.map((b) => b.time));
  });

  it('filters by time and orders newest first on request', async () => {
    const day = await get(`/symbols/${sym.A}/bars?interval=1d&from=${iso(DAY)}`, BarPageSchema);
    expect(day.items).toEqual([{ time: iso(DAY), open: 52, high: 55, low: 52, close: 55, volume: 30, vwap: (52 * 10 + 55 * 20) / 30, trades: 2 }]);
    const desc = await get(`/symbols/${sym.A}/bars?order=desc&limit=2`, BarPageSchema);
    expect(desc.items.map((b) => b.close)).toEqual([55, 52]);
    expect(desc.nextCursor).not.toBeNull();
  });

  it('answers an empty page for a symbol the stream knows but the store has not written yet', async () => {
    expect((await get(`/symbols/${sym.C}/bars`, BarPageSchema)).items).toEqual([]);
  });

  it('refuses a cursor issued for another interval', async () => {
    const page = await get(`/symbols/${sym.A}/bars?interval=1m&limit=1`, BarPageSchema);
    const r = await api(httpEvent('GET', `/symbols/${sym.A}/bars?interval=5m&limit=1&cursor=${page.nextCursor}`));
    expect(r.statusCode).toBe(400);
    expect(bodyOf(r)).toMatchObject({ error: { fields: [{ field: 'cursor', message: expect.stringContaining('different filters') }] } });
  });
});

describe('GET /signals', () => {
  it('lists newest first with filters and cursor pagination', async () => {
    const all = await get(`/signals?symbol=${sym.A}`, SignalPageSchema);
    expect(all.items.map((s) => s.id)).toEqual([`${sym.A}:a2`, `${sym.A}:a1`, `${sym.A}:a3`]);
    expect(all.items[0]).toEqual({
      id: `${sym.A}:a2`, symbol: sym.A, side: 'SELL', rule: 'ema-ma-crossover', price: 55, barTime: iso(DAY + 13.5 * 3_600_000 + MIN),
      indicators: { ma: 53, ema: 53.5, rsi: 25 }, reason: 'ema-ma-crossover SELL', createdAt: iso(NOW - 3_600_000),
    });
    const first = await get(`/signals?symbol=${sym.A}&limit=2`, SignalPageSchema);
    const second = await get(`/signals?symbol=${sym.A}&limit=2&cursor=${first.nextCursor}`, SignalPageSchema);
    expect([...first.items, ...second.items].map((s) => s.id)).toEqual(all.items.map((s) => s.id));
    expect(second.nextCursor).toBeNull();
    expect((await get(`/signals?symbol=${sym.A}&side=BUY&since=${DAY}`, SignalPageSchema)).items.map((s) => s.id)).toEqual([`${sym.A}:a1`]);
    expect((await get(`/signals?rule=rsi-threshold&side=SELL&symbol=${sym.B}`, SignalPageSchema)).items.map((s) => s.id)).toEqual([`${sym.B}:b1`]);
  });
});

describe('GET /market/overview', () => {
  it('summarises breadth, movers, volume, 24 h signal counts and economic indicators', async () => {
    const o = await get('/market/overview', MarketOverviewSchema);
    expect(o.asOf).toBe(iso(NOW));
    // The store in this test holds only A and B; Redis DB 9 may hold other tests' symbols without daily bars.
    expect(o.breadth).toEqual({ advancers: 1, decliners: 1, unchanged: 0 });
    expect(o.topGainers).toEqual([{ symbol: sym.A, lastPrice: 55, changePct: 10 }]);
    expect(o.topLosers).toEqual([{ symbol: sym.B, lastPrice: 18, changePct: -10 }]);
    expect(o.mostActive).toEqual([
      { symbol: sym.A, volume: 30, lastPrice: 55, day: iso(DAY) },
      { symbol: sym.B, volume: 10, lastPrice: 18, day: iso(DAY) },
    ]);
    expect(o.signals).toEqual({ since: iso(NOW - 86_400_000), total: 3, bySide: { BUY: 1, SELL: 2 }, byRule: { 'ema-ma-crossover': 1, 'rsi-threshold': 2 } });
    expect(o.economicIndicators).toEqual([{ name: 'CPI', value: 3.2, timestamp: iso(DAY + 3_600_000) }]);
  });
});

describe('GET /openapi.json', () => {
  it('serves the OpenAPI 3.1 document with caching headers', async () => {
    const r = await api(httpEvent('GET', '/openapi.json'));
    expect(r.statusCode).toBe(200);
    expect(bodyOf(r)).toMatchObject({ openapi: '3.1.0' });
    expect(r.headers.etag).toBeDefined();
  });
});
