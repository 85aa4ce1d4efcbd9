/**
 * Per-symbol market engine: event-time bars feeding MA / EMA / RSI.
 *
 * Lifecycle of a bar: it opens with the first record of its period and closes
 * when the first record of a LATER period arrives (or on flushSymbol). Only
 * then are its indicators committed. Bars are not emitted for periods without
 * records, so indicators advance once per traded period.
 *
 * Late records: a record whose period is earlier than the open bar's, or not
 * later than the last closed bar's, comes back with late = true and changes
 * nothing here: closed bars and their committed indicators are final, and the
 * open bar belongs to a later period. Aggregates kept elsewhere (daily volume,
 * trade counts in SQLite) should still count such a record; the engine only
 * flags it. In 'tick' mode a record is late when its timestamp is earlier than
 * the last one; an equal timestamp is a new trade and gets its own bar.
 *
 * The engine does not deduplicate: a redelivered record for the open bar is
 * counted again. Callers with at-least-once input (Kafka) dedupe by offset.
 */
import type { PriceRecord } from '../schema/records';
import { addToBar, barStart, isTimeframe, openBarFrom, recordVwapPrice, toBar, type Bar, type OpenBar, type Timeframe } from './bars';
import {
  createIndicatorState,
  currentIndicators,
  DEFAULT_PERIODS,
  indicatorStateProblems,
  peekIndicators,
  updateIndicators,
  type IndicatorPeriods,
  type IndicatorState,
  type IndicatorValues,
} from './indicators';

export type { Bar, Timeframe } from './bars';
export type { IndicatorPeriods, IndicatorValues } from './indicators';

export interface EngineConfig {
  timeframe: Timeframe;
  periods: IndicatorPeriods;
}

export const DEFAULT_ENGINE_CONFIG: Readonly<EngineConfig> = Object.freeze({ timeframe: '1m', periods: DEFAULT_PERIODS });
export const SYMBOL_STATE_VERSION = 1;

/** A closed bar with the indicator values committed at its close. */
export interface IndicatorBar extends Bar, IndicatorValues {}

export interface SymbolState {
  v: typeof SYMBOL_STATE_VERSION;
  symbol: string;
  tf: Timeframe;
  ind: IndicatorState;
  /** The bar still accumulating (always null in 'tick' mode). */
  bar: OpenBar | null;
  /** Start time of the last closed bar. */
  last: number | null;
  /** Price and event time of the latest (by event time) accepted record. */
  px: number | null;
  ts: number | null;
}

export type Snapshot = {
  symbol: string;
  lastPrice: number | null;
  lastTimestamp: number | null;
  /** Committed values, as of the last closed bar. */
  indicators: IndicatorValues;
  /** The open bar with provisional values from a peek (nothing committed). */
  openBar: (Bar & { provisional: IndicatorValues }) | null;
};

export interface ApplyResult {
  closed: IndicatorBar[];
  late: boolean;
  snapshot: Snapshot;
}

export class EngineStateError extends Error {}

// Module-scoped, like Math.abs in indicators.ts: global lookups are slow inside vm contexts (jest).
const isFiniteNumber = Number.isFinite;

export function createSymbolState(symbol: string, cfg: EngineConfig): SymbolState {
  if (!isTimeframe(cfg.timeframe)) throw new EngineStateError(`unknown timeframe ${JSON.stringify(cfg.timeframe)}`);
  return { v: SYMBOL_STATE_VERSION, symbol, tf: cfg.timeframe, ind: createIndicatorState(cfg.periods), bar: null, last: null, px: null, ts: null };
}

/** False when state was built under another timeframe or other periods (e.g. before a config change). */
export function isStateCompatible(state: SymbolState, cfg: EngineConfig): boolean {
  const p = state.ind.p;
  return state.tf === cfg.timeframe && p.ma === cfg.periods.ma && p.ema === cfg.periods.ema && p.rsi === cfg.periods.rsi;
}

function assertCompatible(state: SymbolState, cfg: EngineConfig): void {
  if (!isStateCompatible(state, cfg)) {
    const p = state.ind.p, q = cfg.periods;
    throw new EngineStateError(
      `state for ${state.symbol} was built for timeframe ${state.tf}, periods ma ${p.ma} / ema ${p.ema} / rsi ${p.rsi}; ` +
        `config asks for ${cfg.timeframe}, ma ${q.ma} / ema ${q.ema} / rsi ${q.rsi}. Start a fresh state after a config change.`,
    );
  }
}

function closeOpenBar(state: SymbolState, open: OpenBar): IndicatorBar {
  const values = updateIndicators(state.ind, open.c);
  state.last = open.t;
  return { ...toBar(open, state.symbol, state.tf), ma: values.ma, ema: values.ema, rsi: values.rsi };
}

export function snapshotOf(state: SymbolState): Snapshot {
  const open = state.bar;
  return {
    symbol: state.symbol,
    lastPrice: state.px,
    lastTimestamp: state.ts,
    indicators: currentIndicators(state.ind),
    openBar: open === null ? null : { ...toBar(open, state.symbol, state.tf), provisional: peekIndicators(state.ind, open.c) },
  };
}

/** Applies one validated record. Mutates state. */
export function applyRecord(state: SymbolState, record: PriceRecord, cfg: EngineConfig): ApplyResult {
  assertCompatible(state, cfg);
  if (record.symbol !== state.symbol) throw new EngineStateError(`record for ${record.symbol} applied to the state of ${state.symbol}`);
  if (!isFiniteNumber(record.close) || !isFiniteNumber(record.timestamp)) {
    throw new EngineStateError(`record for ${record.symbol} has a non-finite close or timestamp; validate records first`);
  }

  const closed: IndicatorBar[] = [];
  let late = false;
  if (state.tf === 'tick') {
    if (state.last !== null && record.timestamp < state.last) {
      late = true;
    } else {
      const values = updateIndicators(state.ind, record.close);
      state.last = record.timestamp;
      closed.push({
        symbol: state.symbol, timeframe: 'tick', time: record.timestamp,
        open: record.open, high: record.high, low: record.low, close: record.close,
        volume: record.volume, vwap: recordVwapPrice(record), trades: 1,
        ma: values.ma, ema: values.ema, rsi: values.rsi,
      });
    }
  } else {
    const time = barStart(record.timestamp, state.tf);
    const open = state.bar;
    if (open !== null && time === open.t) {
      addToBar(open, record);
    } else if (open !== null && time > open.t) {
      closed.push(closeOpenBar(state, open));
      state.bar = openBarFrom(record, time);
    } else if (open !== null || (state.last !== null && time <= state.last)) {
      late = true;
    } else {
      state.bar = openBarFrom(record, time);
    }
  }
  if (!late && (state.ts === null || record.timestamp >= state.ts)) {
    state.px = record.close;
    state.ts = record.timestamp;
  }
  return { closed, late, snapshot: snapshotOf(state) };
}

/** Closes the open bar now (end of input, shutdown, or a timer). */
export function flushSymbol(state: SymbolState, cfg: EngineConfig): IndicatorBar[] {
  assertCompatible(state, cfg);
  const open = state.bar;
  if (open === null) return [];
  state.bar = null;
  return [closeOpenBar(state, open)];
}

export function serializeState(state: SymbolState): string {
  return JSON.stringify(state);
}

/** Parses and checks stored state; throws EngineStateError naming what is wrong. */
export function deserializeState(text: string): SymbolState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new EngineStateError(`symbol state is not valid JSON: ${(err as Error).message}`);
  }
  const problems = symbolStateProblems(value);
  if (problems.length > 0) throw new EngineStateError(`invalid symbol state: ${problems.join('; ')}`);
  return value as SymbolState;
}

function symbolStateProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['state must be a JSON object'];
  const s = value as Record<string, unknown>;
  if (s.v !== SYMBOL_STATE_VERSION) return [`unsupported state version ${JSON.stringify(s.v)} (expected ${SYMBOL_STATE_VERSION})`];
  const problems: string[] = [];
  if (typeof s.symbol !== 'string' || s.symbol === '') problems.push('symbol must be a non-empty string');
  if (!isTimeframe(s.tf)) problems.push(`tf must be one of tick, 1m, 5m, 15m, 1h, 1d, got ${JSON.stringify(s.tf)}`);
  for (const k of ['last', 'px', 'ts'] as const) {
    if (s[k] !== null && !(typeof s[k] === 'number' && Number.isFinite(s[k]))) problems.push(`${k} must be a finite number or null`);
  }
  problems.push(...indicatorStateProblems(s.ind, 'ind'));
  if (s.bar !== null) {
    const b = s.bar as Record<string, unknown> | undefined;
    if (typeof b !== 'object' || b === null || Array.isArray(b)) {
      problems.push('bar must be an object or null');
    } else {
      for (const k of ['t', 'o', 'h', 'l', 'c', 'vol', 'pv', 'k', 'ot', 'ct']) {
        if (typeof b[k] !== 'number' || !Number.isFinite(b[k])) problems.push(`bar.${k} must be a finite number`);
      }
      if (s.tf === 'tick') problems.push('bar must be null in tick mode');
    }
  }
  return problems;
}
