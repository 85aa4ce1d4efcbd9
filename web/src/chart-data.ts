import type { Bar, Signal } from './api';
import { computeIndicatorSeries, type IndicatorPeriods } from './indicators';

/**
 * Turns API bars and signals into chart series. Pure (no DOM, no chart library), so
 * the mapping is testable in Node.
 */

export const INTERVALS = ['1m', '5m', '1h', '1d'] as const;
export type Interval = (typeof INTERVALS)[number];
export const INTERVAL_SECONDS: Record<Interval, number> = { '1m': 60, '5m': 300, '1h': 3600, '1d': 86400 };

export function isInterval(v: unknown): v is Interval {
  return typeof v === 'string' && (INTERVALS as readonly string[]).includes(v);
}

/** Chart times are UTC seconds. */
export interface Candle { time: number; open: number; high: number; low: number; close: number }
export interface Point { time: number; value: number }
export interface VolumePoint { time: number; value: number; up: boolean }
export interface Marker { time: number; side: 'BUY' | 'SELL'; text: string; id: string }

export interface ChartSeries {
  candles: Candle[];
  volume: VolumePoint[];
  ma: Point[];
  ema: Point[];
  rsi: Point[];
}

/** Ascending by time, one bar per time (the last one wins), as the chart library requires. */
export function normalizeBars(bars: readonly Bar[]): Bar[] {
  const byTime = new Map<number, Bar>();
  for (const b of bars) byTime.set(Math.floor(b.time / 1000), b);
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b);
}

export function toChartSeries(bars: readonly Bar[], periods: IndicatorPeriods): ChartSeries {
  const sorted = normalizeBars(bars);
  const times = sorted.map((b) => Math.floor(b.time / 1000));
  const ind = computeIndicatorSeries(sorted.map((b) => b.close), periods);
  const line = (values: (number | null)[]): Point[] => {
    const out: Point[] = [];
    values.forEach((v, i) => {
      const t = times[i];
      if (v !== null && t !== undefined) out.push({ time: t, value: v });
    });
    return out;
  };
  return {
    candles: sorted.map((b, i) => ({ time: times[i] ?? 0, open: b.open, high: b.high, low: b.low, close: b.close })),
    volume: sorted.map((b, i) => ({ time: times[i] ?? 0, value: b.volume, up: b.close >= b.open })),
    ma: line(ind.ma),
    ema: line(ind.ema),
    rsi: line(ind.rsi),
  };
}

/** The start (UTC seconds) of the interval bucket holding a time in ms. */
export function bucketStart(timeMs: number, interval: Interval): number {
  const step = INTERVAL_SECONDS[interval];
  return Math.floor(timeMs / 1000 / step) * step;
}

/**
 * One marker per signal, placed on the bar of the shown interval that contains the
 * signal's bar. Signals outside the loaded bars are left out: the library would pin
 * them to the nearest bar, which would be a lie.
 */
export function signalMarkers(signals: readonly Signal[], candles: readonly Candle[], interval: Interval): Marker[] {
  const barTimes = new Set(candles.map((c) => c.time));
  const seen = new Set<string>();
  const out: Marker[] = [];
  for (const s of signals) {
    if (s.barTime === null || seen.has(s.id)) continue;
    seen.add(s.id);
    const time = bucketStart(s.barTime, interval);
    if (!barTimes.has(time)) continue;
    out.push({ time, side: s.side, text: s.side, id: s.id });
  }
  return out.sort((a, b) => a.time - b.time || a.side.localeCompare(b.side));
}

/** How far back each interval looks by default: enough bars for the indicators to warm up and a useful view. */
export const LOOKBACK_BARS = 300;
