import type { Bar } from '../engine/bars';
import { statement, type Db } from './db';
import type { Interval } from './intervals';

/**
 * Read side of the aggregate store. Every query uses bound parameters and a
 * LIMIT; keyset pagination ("rows after this key") keeps pages stable while the
 * writer appends, unlike OFFSET.
 */

/** A stored bar: the engine's bar without the symbol and timeframe the query already names. */
export type BarOut = Omit<Bar, 'symbol' | 'timeframe'>;

export interface BarsQuery {
  symbol: string;
  interval: Interval;
  /** Inclusive start-time bound, epoch ms. */
  from?: number;
  /** Exclusive start-time bound, epoch ms. */
  to?: number;
  limit: number;
  order: 'asc' | 'desc';
  /** Continue strictly after this bar start (in `order`). */
  after?: number;
}

export interface Page<T, K> {
  items: T[];
  /** Key of the last item when more rows exist, for the next page. */
  next: K | null;
}

interface BarDbRow { start: number; open: number; high: number; low: number; close: number; volume: number; pv: number; trades: number }

/** Rounding in the price * volume sums can land a hair outside [low, high]; clamp as the engine does. */
function vwapOf(r: BarDbRow): number {
  return r.volume > 0 ? Math.min(r.high, Math.max(r.low, r.pv / r.volume)) : r.close;
}

function toBar(r: BarDbRow): BarOut {
  return { time: r.start, open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume, vwap: vwapOf(r), trades: r.trades };
}

export function queryBars(db: Db, q: BarsQuery): Page<BarOut, number> {
  const asc = q.order === 'asc';
  const lo = Math.max(q.from ?? -Infinity, asc && q.after !== undefined ? q.after + 1 : -Infinity);
  const hi = Math.min(q.to ?? Infinity, !asc && q.after !== undefined ? q.after : Infinity);
  // ±Infinity cannot be bound to an INTEGER comparison reliably; use the safe integer range.
  const loB = Number.isFinite(lo) ? lo : Number.MIN_SAFE_INTEGER;
  const hiB = Number.isFinite(hi) ? hi : Number.MAX_SAFE_INTEGER;
  const rows = statement<[string, string, number, number, number], BarDbRow>(db, `SELECT start, open, high, low, close, volume, pv, trades FROM bars
       WHERE symbol = ? AND interval = ? AND start >= ? AND start < ?
       ORDER BY start ${asc ? 'ASC' : 'DESC'} LIMIT ?`,
    )
    .all(q.symbol, q.interval, loB, hiB, q.limit + 1);
  const more = rows.length > q.limit;
  const items = rows.slice(0, q.limit).map(toBar);
  return { items, next: more ? items[items.length - 1]!.time : null };
}

export interface SignalOut {
  id: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  rule: string;
  price: number;
  barTime: number;
  indicators: Record<string, number | null>;
  reason: string;
  createdAt: number;
}

export interface SignalsQuery {
  symbol?: string;
  side?: 'BUY' | 'SELL';
  rule?: string;
  /** Inclusive lower bound on barTime, epoch ms. */
  since?: number;
  limit: number;
  /** Continue after this (barTime, id), newest first. */
  after?: { barTime: number; id: string };
}

interface SignalDbRow { id: string; symbol: string; side: 'BUY' | 'SELL'; rule: string; price: number; bar_time: number; indicators: string; reason: string; created_at: number }

function toSignal(r: SignalDbRow): SignalOut {
  let indicators: Record<string, number | null> = {};
  try {
    indicators = JSON.parse(r.indicators) as Record<string, number | null>;
  } catch {
    // Written by applyBatch from validated JSON; an unreadable value is reported as empty rather than failing the page.
  }
  return { id: r.id, symbol: r.symbol, side: r.side, rule: r.rule, price: r.price, barTime: r.bar_time, indicators, reason: r.reason, createdAt: r.created_at };
}

/** Newest first by (barTime, id). */
export function querySignals(db: Db, q: SignalsQuery): Page<SignalOut, { barTime: number; id: string }> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (q.symbol !== undefined) { where.push('symbol = ?'); params.push(q.symbol); }
  if (q.side !== undefined) { where.push('side = ?'); params.push(q.side); }
  if (q.rule !== undefined) { where.push('rule = ?'); params.push(q.rule); }
  if (q.since !== undefined) { where.push('bar_time >= ?'); params.push(q.since); }
  if (q.after !== undefined) { where.push('(bar_time, id) < (?, ?)'); params.push(q.after.barTime, q.after.id); }
  const sql = `SELECT id, symbol, side, rule, price, bar_time, indicators, reason, created_at FROM signals
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY bar_time DESC, id DESC LIMIT ?`;
  const rows = statement<(string | number)[], SignalDbRow>(db, sql).all(...params, q.limit + 1);
  const more = rows.length > q.limit;
  const items = rows.slice(0, q.limit).map(toSignal);
  const last = items[items.length - 1];
  return { items, next: more && last ? { barTime: last.barTime, id: last.id } : null };
}

export interface StoredSymbol {
  symbol: string;
  firstTimestamp: number;
  lastTimestamp: number;
  lastPrice: number;
}

export function listStoredSymbols(db: Db, limit = 10_000): StoredSymbol[] {
  return statement<[number], StoredSymbol>(db, 'SELECT symbol, first_ts AS firstTimestamp, last_ts AS lastTimestamp, last_price AS lastPrice FROM symbols ORDER BY symbol LIMIT ?')
    .all(limit);
}

export function getStoredSymbol(db: Db, symbol: string): StoredSymbol | undefined {
  return statement<[string], StoredSymbol>(db, 'SELECT symbol, first_ts AS firstTimestamp, last_ts AS lastTimestamp, last_price AS lastPrice FROM symbols WHERE symbol = ?')
    .get(symbol);
}

export interface DayStats {
  symbol: string;
  /** Start of the latest daily bar. */
  day: number;
  open: number;
  close: number;
  volume: number;
  /** Close of the daily bar before it, if any. */
  previousClose: number | null;
}

/**
 * Latest daily bar per symbol, with the previous day's close: the basis of change %
 * and "most active". One primary-key range read per symbol, never a table scan.
 */
export function latestDailyStats(db: Db, symbols?: readonly string[]): DayStats[] {
  const names = symbols ?? statement<[], string>(db, 'SELECT symbol FROM symbols ORDER BY symbol', 'pluck').all();
  const stmt = statement<[string], { start: number; open: number; close: number; volume: number }>(db, "SELECT start, open, close, volume FROM bars WHERE symbol = ? AND interval = '1d' ORDER BY start DESC LIMIT 2",
  );
  const out: DayStats[] = [];
  for (const symbol of names) {
    const [cur, prev] = stmt.all(symbol);
    if (cur) out.push({ symbol, day: cur.start, open: cur.open, close: cur.close, volume: cur.volume, previousClose: prev ? prev.close : null });
  }
  return out;
}

export interface Sentiment { score: number; magnitude: number; timestamp: number }
export interface MarketData { marketCap: number | null; peRatio: number | null; timestamp: number }
export interface OrderBookTop { bid: { price: number; quantity: number; timestamp: number } | null; ask: { price: number; quantity: number; timestamp: number } | null }

export function getSentiment(db: Db, symbol: string): Sentiment | null {
  return statement<[string], Sentiment>(db, 'SELECT score, magnitude, ts AS timestamp FROM sentiment_latest WHERE symbol = ?').get(symbol) ?? null;
}

export function getMarketData(db: Db, symbol: string): MarketData | null {
  return statement<[string], MarketData>(db, 'SELECT market_cap AS marketCap, pe_ratio AS peRatio, ts AS timestamp FROM market_data_latest WHERE symbol = ?').get(symbol) ?? null;
}

/** Latest buy order as the bid and latest sell order as the ask: the stream carries single orders, not a book. */
export function getOrderBookTop(db: Db, symbol: string): OrderBookTop | null {
  const rows = statement<[string], { side: 'buy' | 'sell'; price: number; quantity: number; timestamp: number }>(db, 'SELECT side, price, quantity, ts AS timestamp FROM order_book_latest WHERE symbol = ?',
    )
    .all(symbol);
  if (rows.length === 0) return null;
  const pick = (side: 'buy' | 'sell') => {
    const r = rows.find((x) => x.side === side);
    return r ? { price: r.price, quantity: r.quantity, timestamp: r.timestamp } : null;
  };
  return { bid: pick('buy'), ask: pick('sell') };
}

export interface EconomicReading { name: string; value: number; timestamp: number }

export function latestEconomicIndicators(db: Db, limit = 100): EconomicReading[] {
  return statement<[number], EconomicReading>(db, `SELECT e.name, e.value, e.ts AS timestamp FROM economic_indicators e
       JOIN (SELECT name, max(ts) AS ts FROM economic_indicators GROUP BY name) m ON m.name = e.name AND m.ts = e.ts
       ORDER BY e.name LIMIT ?`,
    )
    .all(limit);
}

export interface SignalCounts { total: number; bySide: { BUY: number; SELL: number }; byRule: Record<string, number> }

/** Signals created at or after `since` (epoch ms). */
export function signalCounts(db: Db, since: number): SignalCounts {
  const rows = statement<[number], { side: 'BUY' | 'SELL'; rule: string; n: number }>(db, 'SELECT side, rule, count(*) AS n FROM signals WHERE created_at >= ? GROUP BY side, rule ORDER BY rule, side',
    )
    .all(since);
  const out: SignalCounts = { total: 0, bySide: { BUY: 0, SELL: 0 }, byRule: {} };
  for (const r of rows) {
    out.total += r.n;
    out.bySide[r.side] += r.n;
    out.byRule[r.rule] = (out.byRule[r.rule] ?? 0) + r.n;
  }
  return out;
}
