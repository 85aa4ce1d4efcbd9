/**
 * Ticks for the latency measurement, and which of them have a visible effect.
 *
 * Each latency symbol gets ticks at a fixed event-time spacing (ticksPerBar per
 * bar), round-robin across symbols, with a price that swings like a sine wave of
 * `swingBars` bars so RSI crosses 30 and 70 and EMA crosses MA every cycle. The
 * tick that opens a new bar closes the previous one: that tick's effect is an
 * indicator record for the closed bar on market.indicators and, when a rule
 * fires, a signal for that bar on market.signals. Running the same engine and
 * rules locally says in advance which (symbol, bar time) pairs must show up, so
 * a missing output is reported rather than silently shrinking the sample.
 */
import { applyRecord, createSymbolState, type EngineConfig, type SymbolState } from '../../shared/engine/engine';
import { createRuleState, evaluateBar, type RuleState, type RulesConfig } from '../../shared/engine/signals';
import type { PriceRecord } from '../../shared/schema/records';

export interface LatencySeriesOptions {
  symbols: number;
  ticksPerBar: number;
  totalTicks: number;
  /** Event time of each symbol's first tick; aligned to the bar length by the caller. */
  startMs: number;
  barMs: number;
  swingBars?: number;
  /** Swing amplitude in log-price. */
  amplitude?: number;
  symbolPrefix?: string;
}

export interface LatencySeries {
  ticks: PriceRecord[];
  /** `${symbol}|${barTime}` → index in `ticks` of the tick that closes that bar. */
  closingTick: Map<string, number>;
  /** Signal bars the rules fire on, as `${symbol}|${barTime}`. */
  expectedSignals: Set<string>;
  spacingMs: number;
  /** Event time the series spans per symbol. */
  spanMs: number;
}

export const effectKey = (symbol: string, barTime: number): string => `${symbol}|${barTime}`;

/** No symbol of the throughput runs starts with it, so latency outputs are told apart by key alone. */
export const LATENCY_SYMBOL_PREFIX = 'LAT';

export function latencySymbols(n: number, prefix = LATENCY_SYMBOL_PREFIX): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(3, '0')}`);
}

export function buildLatencySeries(o: LatencySeriesOptions, engine: EngineConfig, rules: RulesConfig): LatencySeries {
  if (!Number.isInteger(o.ticksPerBar) || o.ticksPerBar < 1) throw new Error(`ticksPerBar must be an integer >= 1, got ${o.ticksPerBar}`);
  if (o.barMs % o.ticksPerBar !== 0) throw new Error(`ticksPerBar ${o.ticksPerBar} must divide the bar length of ${o.barMs} ms`);
  const spacingMs = o.barMs / o.ticksPerBar;
  const swing = o.swingBars ?? 50;
  const amplitude = o.amplitude ?? 0.08;
  const symbols = latencySymbols(o.symbols, o.symbolPrefix);
  const states = new Map<string, { engine: SymbolState; rules: RuleState }>(symbols.map((s) => [s, { engine: createSymbolState(s, engine), rules: createRuleState() }]));
  const ticks: PriceRecord[] = [];
  const closingTick = new Map<string, number>();
  const expectedSignals = new Set<string>();
  for (let i = 0; i < o.totalTicks; i++) {
    const s = i % symbols.length;
    const k = Math.floor(i / symbols.length);
    const symbol = symbols[s]!;
    // A different phase per symbol, so the symbols' signals spread over time instead of firing together.
    const phase = (2 * Math.PI * s) / symbols.length;
    const price = Math.round(100 * Math.exp(amplitude * Math.sin((2 * Math.PI * k) / (swing * o.ticksPerBar) + phase)) * 10_000) / 10_000;
    const record: PriceRecord = { symbol, timestamp: o.startMs + k * spacingMs, open: price, high: price, low: price, close: price, volume: 100 };
    ticks.push(record);
    const st = states.get(symbol)!;
    const { closed } = applyRecord(st.engine, record, engine);
    for (const bar of closed) {
      closingTick.set(effectKey(symbol, bar.time), i);
      for (const sig of evaluateBar(st.rules, bar, rules)) expectedSignals.add(effectKey(sig.symbol, sig.barTime));
    }
  }
  const perSymbol = Math.ceil(o.totalTicks / symbols.length);
  return { ticks, closingTick, expectedSignals, spacingMs, spanMs: perSymbol * spacingMs };
}
