import { barStart, TIMEFRAME_MS } from '../engine/bars';

/** The bar intervals the aggregate store keeps (a subset of the engine's timeframes). */
export const INTERVALS = ['1m', '5m', '1h', '1d'] as const;
export type Interval = (typeof INTERVALS)[number];

export const INTERVAL_MS: Readonly<Record<Interval, number>> = {
  '1m': TIMEFRAME_MS['1m'],
  '5m': TIMEFRAME_MS['5m'],
  '1h': TIMEFRAME_MS['1h'],
  '1d': TIMEFRAME_MS['1d'],
};

/** Start of the UTC-aligned interval holding `ts`: the engine's own bar boundaries, so both stores agree. */
export function intervalStart(ts: number, interval: Interval): number {
  return barStart(ts, interval);
}

export function isInterval(v: unknown): v is Interval {
  return typeof v === 'string' && (INTERVALS as readonly string[]).includes(v);
}
