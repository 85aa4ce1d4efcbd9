/**
 * Event-time OHLCV bars. A bar covers [time, time + TIMEFRAME_MS) in UTC;
 * 'tick' makes every record its own bar.
 */
import type { PriceRecord } from '../schema/records';

// Module-scoped, like in indicators.ts: global lookups are slow inside vm contexts (jest).
const { floor, min, max } = Math;

export const TIMEFRAMES = ['tick', '1m', '5m', '15m', '1h', '1d'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

/** Bar length in ms; 0 for 'tick' (each record is its own bar). */
export const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = Object.freeze({
  tick: 0,
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
});

export function isTimeframe(value: unknown): value is Timeframe {
  return typeof value === 'string' && (TIMEFRAMES as readonly string[]).includes(value);
}

/** Start of the bar holding timestampMs. Epoch ms has no leap seconds, so UTC days are exact multiples. */
export function barStart(timestampMs: number, timeframe: Timeframe): number {
  const size = TIMEFRAME_MS[timeframe];
  return size === 0 ? timestampMs : floor(timestampMs / size) * size;
}

export interface Bar {
  symbol: string;
  timeframe: Timeframe;
  /** Bar start, epoch ms. */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Volume-weighted average price; equals close when the bar has no volume. */
  vwap: number;
  /** Records that went into the bar. */
  trades: number;
}

/**
 * A bar still accumulating, in compact form (it is part of per-symbol state).
 * Open and close follow event time, not arrival order: the open is the
 * earliest record's open, the close the latest record's close (ties: the
 * later arrival wins the close, the earlier keeps the open).
 */
export interface OpenBar {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  /** Volume, and sum of price * volume for the VWAP. */
  vol: number;
  pv: number;
  /** Trade (record) count. */
  k: number;
  /** Event times of the records holding the open and the close. */
  ot: number;
  ct: number;
}

/**
 * The price a record contributes to VWAP: its typical price (h + l + c) / 3,
 * which for a trade tick (h = l = c) is the trade price itself. The tick case
 * is taken directly because (p + p + p) / 3 is not always p in floating point.
 */
export function recordVwapPrice(r: PriceRecord): number {
  return r.high === r.low ? r.close : (r.high + r.low + r.close) / 3;
}

export function openBarFrom(r: PriceRecord, time: number): OpenBar {
  return { t: time, o: r.open, h: r.high, l: r.low, c: r.close, vol: r.volume, pv: recordVwapPrice(r) * r.volume, k: 1, ot: r.timestamp, ct: r.timestamp };
}

export function addToBar(b: OpenBar, r: PriceRecord): void {
  if (r.high > b.h) b.h = r.high;
  if (r.low < b.l) b.l = r.low;
  if (r.timestamp < b.ot) { b.o = r.open; b.ot = r.timestamp; }
  if (r.timestamp >= b.ct) { b.c = r.close; b.ct = r.timestamp; }
  b.vol += r.volume;
  b.pv += recordVwapPrice(r) * r.volume;
  b.k += 1;
}

export function toBar(b: OpenBar, symbol: string, timeframe: Timeframe): Bar {
  return {
    symbol,
    timeframe,
    time: b.t,
    open: b.o,
    high: b.h,
    low: b.l,
    close: b.c,
    volume: b.vol,
    // Rounding in the price * volume sums can land a hair outside the range the true VWAP lies in.
    vwap: b.vol > 0 ? min(b.h, max(b.l, b.pv / b.vol)) : b.c,
    trades: b.k,
  };
}
