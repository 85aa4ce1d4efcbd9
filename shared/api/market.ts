import { z } from 'zod';
import type { Db } from '../store/db';
import { schemaVersion, StoreNotReadyError } from '../store/db';
import { intervalStart } from '../store/intervals';
import {
  getMarketData,
  getOrderBookTop,
  getSentiment,
  getStoredSymbol,
  latestDailyStats,
  latestEconomicIndicators,
  listStoredSymbols,
  queryBars,
  querySignals,
  signalCounts,
  type DayStats,
} from '../store/queries';
import { decodeCursor, encodeCursor } from './cursor';
import { ApiError, notFound, unavailable } from './errors';
import { isKnownSymbol, readKnownSymbols, readSnapshot, readSnapshots, withTimeout, type CachedSnapshot, type RedisReader } from './market-cache';
import { DEFAULT_PAGE_LIMIT } from './params';
import type { BarsQuerySchema, SignalsQuerySchema } from './schemas';

/**
 * The read routes' logic: latest values from Redis, history from SQLite. Each
 * function returns the response body; the router adds status, caching and errors.
 * When one store is down, answers that can come from the other still do (and
 * say so in `degraded`); only when neither can answer is it a 503.
 */

export interface MarketDeps {
  /** The read-only store; throws when it cannot be opened (e.g. the writer has not created it yet). */
  db: () => Db;
  redis: RedisReader;
  redisTimeoutMs: number;
  now: () => number;
}

export interface Answer<T> {
  body: T;
  /** Stores that could not be read; the answer is built from the others. */
  degraded: string[];
}

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : iso(ms));

type Attempt<T> = { ok: true; value: T } | { ok: false; error: string };

async function attempt<T>(fn: () => T | Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Percent change of the last price against the previous daily close; on a symbol's
 * first day, against that day's open. If the last price is already in a day the
 * store has not written yet, the store's latest daily close is the previous close.
 */
export function changePct(lastPrice: number | null, lastTimestamp: number | null, day: DayStats | undefined): number | null {
  if (lastPrice === null || !day) return null;
  const lastDay = lastTimestamp === null ? day.day : intervalStart(lastTimestamp, '1d');
  const ref = lastDay > day.day ? day.close : (day.previousClose ?? day.open);
  if (!(ref > 0)) return null;
  return ((lastPrice - ref) / ref) * 100;
}

interface SymbolRow {
  symbol: string;
  lastPrice: number | null;
  lastTimestamp: number | null;
  changePct: number | null;
  indicators: { ma: number | null; ema: number | null; rsi: number | null };
  day: DayStats | undefined;
}

const NO_INDICATORS = { ma: null, ema: null, rsi: null };

async function collectSymbols(deps: MarketDeps): Promise<{ rows: SymbolRow[]; degraded: string[] }> {
  const fromRedis = await attempt(async () => {
    const names = await readKnownSymbols(deps.redis, deps.redisTimeoutMs);
    return { names, snapshots: await readSnapshots(deps.redis, names, deps.redisTimeoutMs) };
  });
  const fromSqlite = await attempt(() => {
    const db = deps.db();
    return { stored: listStoredSymbols(db), days: latestDailyStats(db) };
  });
  if (!fromRedis.ok && !fromSqlite.ok) throw unavailable('Market data', `redis: ${fromRedis.error}; sqlite: ${fromSqlite.error}`);
  const degraded = [...(fromRedis.ok ? [] : ['redis']), ...(fromSqlite.ok ? [] : ['sqlite'])];

  const snapshots = fromRedis.ok ? fromRedis.value.snapshots : new Map<string, CachedSnapshot>();
  const stored = new Map(fromSqlite.ok ? fromSqlite.value.stored.map((s) => [s.symbol, s]) : []);
  const days = new Map(fromSqlite.ok ? fromSqlite.value.days.map((d) => [d.symbol, d]) : []);
  const names = new Set([...(fromRedis.ok ? fromRedis.value.names : []), ...stored.keys()]);

  const rows: SymbolRow[] = [];
  for (const symbol of [...names].sort()) {
    const snap = snapshots.get(symbol);
    const st = stored.get(symbol);
    // The cache is fresher than the store (the store is written by a later consumer), so it wins when present.
    const lastPrice = snap?.lastPrice ?? st?.lastPrice ?? null;
    const lastTimestamp = snap?.lastPrice != null ? snap.lastTimestamp : (st?.lastTimestamp ?? null);
    const day = days.get(symbol);
    rows.push({ symbol, lastPrice, lastTimestamp, changePct: changePct(lastPrice, lastTimestamp, day), indicators: snap?.indicators ?? NO_INDICATORS, day });
  }
  return { rows, degraded };
}

export async function listSymbols(deps: MarketDeps) {
  const { rows, degraded } = await collectSymbols(deps);
  return {
    body: {
      items: rows.map((r) => ({ symbol: r.symbol, lastPrice: r.lastPrice, lastTimestamp: isoOrNull(r.lastTimestamp), changePct: r.changePct, indicators: r.indicators })),
    },
    degraded,
  };
}

export async function getSymbol(deps: MarketDeps, symbol: string) {
  const snap = await attempt(() => readSnapshot(deps.redis, symbol, deps.redisTimeoutMs));
  const store = await attempt(() => {
    const db = deps.db();
    return {
      stored: getStoredSymbol(db, symbol),
      day: latestDailyStats(db, [symbol])[0],
      sentiment: getSentiment(db, symbol),
      marketData: getMarketData(db, symbol),
      orderBook: getOrderBookTop(db, symbol),
    };
  });
  if (!snap.ok && !store.ok) throw unavailable('Market data', `redis: ${snap.error}; sqlite: ${store.error}`);
  const s = snap.ok ? snap.value : null;
  const st = store.ok ? store.value : undefined;
  if (!s && !st?.stored) {
    // Unknown to every store that answered; if one did not answer, we cannot tell.
    if (!snap.ok || !store.ok) throw unavailable('Market data', 'one store did not answer and the other does not know this symbol');
    throw notFound(`Unknown symbol ${symbol}`);
  }
  const lastPrice = s?.lastPrice ?? st?.stored?.lastPrice ?? null;
  const lastTimestamp = s?.lastPrice != null ? s.lastTimestamp : (st?.stored?.lastTimestamp ?? null);
  const ob = st?.orderBook ?? null;
  const quote = (q: { price: number; quantity: number; timestamp: number } | null) => (q ? { price: q.price, quantity: q.quantity, timestamp: iso(q.timestamp) } : null);
  const openBar = s?.openBar ?? null;
  return {
    body: {
      symbol,
      lastPrice,
      lastTimestamp: isoOrNull(lastTimestamp),
      changePct: changePct(lastPrice, lastTimestamp, st?.day),
      indicators: s?.indicators ?? NO_INDICATORS,
      openBar: openBar
        ? {
            time: iso(openBar.time), open: openBar.open, high: openBar.high, low: openBar.low, close: openBar.close,
            volume: openBar.volume, vwap: openBar.vwap, trades: openBar.trades, provisional: openBar.provisional,
          }
        : null,
      sentiment: st?.sentiment ? { score: st.sentiment.score, magnitude: st.sentiment.magnitude, timestamp: iso(st.sentiment.timestamp) } : null,
      marketData: st?.marketData ? { marketCap: st.marketData.marketCap, peRatio: st.marketData.peRatio, timestamp: iso(st.marketData.timestamp) } : null,
      orderBook: ob ? { bid: quote(ob.bid), ask: quote(ob.ask) } : null,
    },
    degraded: [...(snap.ok ? [] : ['redis']), ...(store.ok ? [] : ['sqlite'])],
  };
}

function openDb(deps: MarketDeps): Db {
  try {
    return deps.db();
  } catch (err) {
    throw unavailable('The history store', (err as Error).message);
  }
}

export async function getBars(deps: MarketDeps, symbol: string, q: z.output<typeof BarsQuerySchema>) {
  const interval = q.interval ?? '1m';
  const order = q.order ?? 'asc';
  const limit = q.limit ?? DEFAULT_PAGE_LIMIT;
  if (q.from !== undefined && q.to !== undefined && q.from >= q.to) {
    throw new ApiError(400, 'invalid_request', 'Invalid query parameters', [{ field: 'to', message: `to (${iso(q.to)}) must be after from (${iso(q.from)})` }]);
  }
  const db = openDb(deps);
  if (!getStoredSymbol(db, symbol)) {
    // Known to the stream but not yet in the store (the aggregate consumer lags a little): an empty page, not a 404.
    const known = await attempt(() => isKnownSymbol(deps.redis, symbol, deps.redisTimeoutMs));
    if (!known.ok) throw unavailable('Market data', `symbol ${symbol} is not in the history store and Redis did not answer: ${known.error}`);
    if (!known.value) throw notFound(`Unknown symbol ${symbol}`);
  }
  const filters = { symbol, interval, from: q.from, to: q.to, order };
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, 'bars', filters, z.number().int());
  const page = queryBars(db, { symbol, interval, from: q.from, to: q.to, limit, order, after });
  return {
    body: {
      symbol,
      interval,
      items: page.items.map((b) => ({ ...b, time: iso(b.time) })),
      nextCursor: page.next === null ? null : encodeCursor('bars', filters, page.next),
    },
    degraded: [] as string[],
  };
}

const signalKey = z.object({ barTime: z.number().int(), id: z.string().min(1).max(200) });

export async function getSignals(deps: MarketDeps, q: z.output<typeof SignalsQuerySchema>) {
  const limit = q.limit ?? DEFAULT_PAGE_LIMIT;
  const db = openDb(deps);
  const filters = { symbol: q.symbol, side: q.side, rule: q.rule, since: q.since };
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, 'signals', filters, signalKey);
  const page = querySignals(db, { symbol: q.symbol, side: q.side, rule: q.rule, since: q.since, limit, after });
  return {
    body: {
      items: page.items.map((s) => ({
        id: s.id,
        symbol: s.symbol,
        side: s.side,
        rule: s.rule,
        price: s.price,
        barTime: iso(s.barTime),
        indicators: { ma: s.indicators.ma ?? null, ema: s.indicators.ema ?? null, rsi: s.indicators.rsi ?? null },
        reason: s.reason,
        createdAt: iso(s.createdAt),
      })),
      nextCursor: page.next === null ? null : encodeCursor('signals', filters, page.next),
    },
    degraded: [] as string[],
  };
}

export const OVERVIEW = { top: 5, signalWindowMs: 24 * 60 * 60 * 1000 } as const;

export async function marketOverview(deps: MarketDeps) {
  const { rows, degraded } = await collectSymbols(deps);
  const now = deps.now();
  const since = now - OVERVIEW.signalWindowMs;
  const history = await attempt(() => {
    const db = deps.db();
    return { counts: signalCounts(db, since), economic: latestEconomicIndicators(db) };
  });
  if (!history.ok && !degraded.includes('sqlite')) degraded.push('sqlite');
  const withChange = rows.filter((r): r is SymbolRow & { changePct: number } => r.changePct !== null);
  const byChange = [...withChange].sort((a, b) => b.changePct - a.changePct || (a.symbol < b.symbol ? -1 : 1));
  const mover = (r: SymbolRow & { changePct: number }) => ({ symbol: r.symbol, lastPrice: r.lastPrice, changePct: r.changePct });
  const active = rows
    .filter((r): r is SymbolRow & { day: DayStats } => r.day !== undefined)
    .sort((a, b) => b.day.volume - a.day.volume || (a.symbol < b.symbol ? -1 : 1))
    .slice(0, OVERVIEW.top);
  return {
    body: {
      asOf: iso(now),
      breadth: {
        advancers: withChange.filter((r) => r.changePct > 0).length,
        decliners: withChange.filter((r) => r.changePct < 0).length,
        unchanged: withChange.filter((r) => r.changePct === 0).length,
      },
      topGainers: byChange.filter((r) => r.changePct > 0).slice(0, OVERVIEW.top).map(mover),
      topLosers: byChange.filter((r) => r.changePct < 0).reverse().slice(0, OVERVIEW.top).map(mover),
      mostActive: active.map((r) => ({ symbol: r.symbol, volume: r.day.volume, lastPrice: r.lastPrice, day: iso(r.day.day) })),
      signals: { since: iso(since), ...(history.ok ? history.value.counts : { total: 0, bySide: { BUY: 0, SELL: 0 }, byRule: {} }) },
      economicIndicators: history.ok ? history.value.economic.map((e) => ({ name: e.name, value: e.value, timestamp: iso(e.timestamp) })) : [],
    },
    degraded,
  };
}

export async function health(deps: MarketDeps) {
  const t0 = performance.now();
  const redis = await attempt(() => withTimeout(deps.redis.ping(), deps.redisTimeoutMs, 'PING'));
  const t1 = performance.now();
  let empty = false;
  const sqlite = await attempt(() => {
    try {
      return schemaVersion(deps.db());
    } catch (err) {
      // Until the aggregate stage writes its first batch there is no store: healthy, and empty.
      if (!(err instanceof StoreNotReadyError)) throw err;
      empty = true;
      return 0;
    }
  });
  const t2 = performance.now();
  const ms = (a: number, b: number) => Math.round((b - a) * 100) / 100;
  const ok = redis.ok && sqlite.ok;
  return {
    ok,
    body: {
      status: ok ? ('ok' as const) : ('degraded' as const),
      checks: {
        redis: redis.ok ? { status: 'ok' as const, latencyMs: ms(t0, t1) } : { status: 'error' as const, latencyMs: ms(t0, t1), error: redis.error },
        sqlite: sqlite.ok
          ? { status: empty ? ('empty' as const) : ('ok' as const), latencyMs: ms(t1, t2), schemaVersion: sqlite.value }
          : { status: 'error' as const, latencyMs: ms(t1, t2), error: sqlite.error },
      },
    },
  };
}
