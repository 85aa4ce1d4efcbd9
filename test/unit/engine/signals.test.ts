import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { applyRecord, createSymbolState, type EngineConfig, type IndicatorBar } from '../../../shared/engine/engine';
import {
  createRuleState,
  DEFAULT_RULES,
  deserializeRuleState,
  evaluateBar,
  parseRulesConfig,
  RulesConfigError,
  serializeRuleState,
  signalId,
  type RulesConfig,
  type RuleState,
  type Signal,
} from '../../../shared/engine/signals';
import { randomWalk } from './reference';

const MIN = 60_000;
const T0 = Date.parse('2024-05-01T13:00:00Z');

function bar(i: number, v: { rsi?: number | null; ema?: number | null; ma?: number | null }, close = 100): IndicatorBar {
  return { symbol: 'AAPL', timeframe: '1m', time: T0 + i * MIN, open: close, high: close, low: close, close, volume: 1, vwap: close, trades: 1, ma: v.ma ?? null, ema: v.ema ?? null, rsi: v.rsi ?? null };
}

function runRsi(values: (number | null)[], rules: RulesConfig = DEFAULT_RULES, state: RuleState = createRuleState()): Array<[number, string]> {
  const fired: Array<[number, string]> = [];
  values.forEach((rsi, i) => evaluateBar(state, bar(i, { rsi }), rules).forEach((s) => fired.push([i, s.side])));
  return fired;
}

function runCross(diffs: number[], rules: RulesConfig = DEFAULT_RULES): Array<[number, string]> {
  const state = createRuleState();
  const fired: Array<[number, string]> = [];
  diffs.forEach((d, i) => evaluateBar(state, bar(i, { ema: 100 + d, ma: 100 }), rules).forEach((s) => fired.push([i, s.side])));
  return fired;
}

const withRules = (json: unknown) => parseRulesConfig(json);

describe('rsi-threshold', () => {
  it('fires BUY when RSI crosses up out of oversold and SELL when it crosses down out of overbought', () => {
    expect(runRsi([35, 28, 25, 31, 50])).toEqual([[3, 'BUY']]);
    expect(runRsi([65, 72, 75, 69, 50])).toEqual([[3, 'SELL']]);
  });

  it('treats the threshold itself as outside the zone (29.99 -> 30 is a cross; 30 -> 31 is not)', () => {
    expect(runRsi([29.99, 30])).toEqual([[1, 'BUY']]);
    expect(runRsi([30, 31, 70, 69])).toEqual([]);
  });

  it('does not fire on the first RSI value or while RSI is warming up', () => {
    expect(runRsi([null, null, 31, 40])).toEqual([]);
    expect(runRsi([null, 25, null, 31])).toEqual([[3, 'BUY']]); // null bars keep the previous value
  });

  it('re-arms only after RSI left the zone by the margin (hysteresis)', () => {
    // margin 5: BUY at 31, wobble 29/31 stays quiet, 36 re-arms, next cross fires
    expect(runRsi([25, 31, 29, 31, 36, 28, 33])).toEqual([[1, 'BUY'], [6, 'BUY']]);
    expect(runRsi([75, 69, 71, 69, 64, 72, 68])).toEqual([[1, 'SELL'], [6, 'SELL']]);
  });

  it('with margin 0 every crossing fires', () => {
    const rules = withRules({ rules: { 'rsi-threshold': { rearmMargin: 0 } } });
    expect(runRsi([25, 31, 29, 31], rules)).toEqual([[1, 'BUY'], [3, 'BUY']]);
  });

  it('uses the configured thresholds', () => {
    const rules = withRules({ rules: { 'rsi-threshold': { oversold: 20, overbought: 80 } } });
    expect(runRsi([25, 31, 75, 69], rules)).toEqual([]);
    expect(runRsi([19, 21, 81, 79], rules)).toEqual([[1, 'BUY'], [3, 'SELL']]);
  });

  it('carries id, symbol, side, rule, price, bar time, indicators and a one-line reason', () => {
    const state = createRuleState();
    evaluateBar(state, bar(0, { rsi: 28.5, ema: 99, ma: 100 }), DEFAULT_RULES);
    const [s] = evaluateBar(state, bar(1, { rsi: 31.25, ema: 99.5, ma: 100 }, 101.5), DEFAULT_RULES);
    expect(s).toEqual({
      id: `AAPL:rsi-threshold:${T0 + MIN}`,
      symbol: 'AAPL',
      side: 'BUY',
      rule: 'rsi-threshold',
      price: 101.5,
      barTime: T0 + MIN,
      indicators: { ma: 100, ema: 99.5, rsi: 31.25 },
      reason: expect.stringMatching(/^RSI rose out of oversold: 28\.5 -> 31\.25 crossed 30 at close 101\.5$/) as unknown as string,
    });
  });
});

describe('ema-ma-crossover', () => {
  it('fires BUY when EMA crosses above MA and SELL when it crosses below', () => {
    expect(runCross([-1, -0.5, 0.5, 1, -0.1])).toEqual([[2, 'BUY'], [4, 'SELL']]);
  });

  it('ignores the first sign after warm-up and a touch that returns to the same side', () => {
    expect(runCross([1, 2])).toEqual([]);
    expect(runCross([1, 0, 1, 0, 2])).toEqual([]);
    expect(runCross([-1, 0, 0, 1])).toEqual([[3, 'BUY']]);
  });

  it('needs both EMA and MA', () => {
    const state = createRuleState();
    expect(evaluateBar(state, bar(0, { ema: 99, ma: null }), DEFAULT_RULES)).toEqual([]);
    expect(evaluateBar(state, bar(1, { ema: 99, ma: 100 }), DEFAULT_RULES)).toEqual([]);
    expect(evaluateBar(state, bar(2, { ema: 101, ma: 100 }), DEFAULT_RULES).map((s) => s.side)).toEqual(['BUY']);
  });
});

describe('configuration', () => {
  it('switches rules off', () => {
    expect(runRsi([25, 31], withRules({ rules: { 'rsi-threshold': { enabled: false } } }))).toEqual([]);
    expect(runCross([-1, 1], withRules({ rules: { 'ema-ma-crossover': { enabled: false } } }))).toEqual([]);
  });

  it('applies a cooldown per (symbol, rule) in bar time', () => {
    const rules = withRules({ cooldownMs: 3 * MIN });
    // crosses at bars 1, 2, 3, 4: bar 1 fires; 2 and 3 are within 3 minutes; 4 is not
    expect(runCross([-1, 1, -1, 1, -1], rules)).toEqual([[1, 'BUY'], [4, 'SELL']]);
    // the RSI rule has its own clock
    const both = createRuleState();
    const fired: string[] = [];
    const feed = (i: number, rsi: number, ema: number) => evaluateBar(both, bar(i, { rsi, ema, ma: 100 }), rules).forEach((s) => fired.push(`${i}:${s.rule}`));
    feed(0, 25, 99);
    feed(1, 31, 101);
    expect(fired).toEqual(['1:rsi-threshold', '1:ema-ma-crossover']);
  });

  it('a rule-level cooldown overrides the top-level one', () => {
    const rules = withRules({ cooldownMs: 10 * MIN, rules: { 'ema-ma-crossover': { cooldownMs: 0 } } });
    expect(rules.rules['ema-ma-crossover'].cooldownMs).toBe(0);
    expect(rules.rules['rsi-threshold'].cooldownMs).toBe(10 * MIN);
    expect(runCross([-1, 1, -1], rules)).toEqual([[1, 'BUY'], [2, 'SELL']]);
  });

  it('fills defaults for what the JSON leaves out', () => {
    expect(parseRulesConfig({})).toEqual(DEFAULT_RULES);
    expect(DEFAULT_RULES).toEqual({
      rules: { 'rsi-threshold': { enabled: true, oversold: 30, overbought: 70, rearmMargin: 5, cooldownMs: 0 }, 'ema-ma-crossover': { enabled: true, cooldownMs: 0 } },
      intrabar: false,
    });
  });

  it('reports every problem with its field path', () => {
    const errorsOf = (json: unknown) => {
      try {
        parseRulesConfig(json);
      } catch (err) {
        expect(err).toBeInstanceOf(RulesConfigError);
        return (err as RulesConfigError).errors.map((e) => `${e.field}: ${e.message}`);
      }
      throw new Error('expected parseRulesConfig to throw');
    };
    expect(errorsOf([])).toEqual(['(root): must be a JSON object, got an array']);
    expect(errorsOf({ rules: { 'rsi-treshold': {} } })).toEqual(['rules.rsi-treshold: unknown key; allowed: rsi-threshold, ema-ma-crossover']);
    expect(errorsOf({ rules: { 'rsi-threshold': { oversold: '30' } } })).toEqual(['rules.rsi-threshold.oversold: must be a finite number, got "30"']);
    expect(errorsOf({ rules: { 'rsi-threshold': { oversold: 75 } } })).toEqual(['rules.rsi-threshold: oversold (75) must be below overbought (70)']);
    expect(errorsOf({ rules: { 'rsi-threshold': { overbought: 101 } } })).toEqual(['rules.rsi-threshold.overbought: must be between 0 and 100, got 101']);
    expect(errorsOf({ rules: { 'rsi-threshold': { rearmMargin: 80 } } })).toEqual([
      'rules.rsi-threshold.rearmMargin: oversold + rearmMargin (110) exceeds 100, so BUY could never re-arm',
      'rules.rsi-threshold.rearmMargin: overbought - rearmMargin (-10) is below 0, so SELL could never re-arm',
    ]);
    expect(errorsOf({ rules: { 'ema-ma-crossover': { enabled: 'yes' } } })).toEqual(['rules.ema-ma-crossover.enabled: must be true or false, got "yes"']);
    expect(errorsOf({ cooldownMs: -1, intrabar: true })).toEqual([
      '(root).cooldownMs: must be a non-negative integer (milliseconds), got -1',
      'intrabar: only false is supported (rules run on closed bars), got true',
    ]);
    expect(errorsOf({ rules: [] })).toEqual(['rules: must be an object keyed by rule name, got an array']);
  });
});

describe('idempotency', () => {
  it('signal ids are deterministic from symbol, rule and bar time', () => {
    expect(signalId('AAPL', 'rsi-threshold', 1714568400000)).toBe('AAPL:rsi-threshold:1714568400000');
  });

  it('a bar at or before the last evaluated bar time yields nothing and changes nothing', () => {
    const state = createRuleState();
    evaluateBar(state, bar(0, { rsi: 25 }), DEFAULT_RULES);
    expect(evaluateBar(state, bar(1, { rsi: 31 }), DEFAULT_RULES)).toHaveLength(1);
    const before = JSON.stringify(state);
    expect(evaluateBar(state, bar(1, { rsi: 31 }), DEFAULT_RULES)).toEqual([]);
    expect(evaluateBar(state, bar(0, { rsi: 25 }), DEFAULT_RULES)).toEqual([]);
    expect(JSON.stringify(state)).toBe(before);
  });

  it('feeding the same records twice through engine and rules never adds a signal (property)', () => {
    const cfg: EngineConfig = { timeframe: '1m', periods: { ma: 4, ema: 3, rsi: 3 } };
    const rules = withRules({ rules: { 'rsi-threshold': { rearmMargin: 0 } } });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 20, max: 200 }), fc.integer({ min: 0, max: 199 }), (seed, n, replayFrom) => {
        const closes = randomWalk(n, seed);
        const records = closes.map((c, i) => ({ symbol: 'AAPL', timestamp: T0 + i * 20_000, open: c, high: c, low: c, close: c, volume: 1 }));
        const engine = createSymbolState('AAPL', cfg);
        const rs = createRuleState();
        const feed = (from: number): Signal[] =>
          records.slice(from).flatMap((r) => applyRecord(engine, r, cfg).closed.flatMap((b) => evaluateBar(rs, b, rules)));
        const first = feed(0);
        const again = feed(Math.min(replayFrom, n - 1));
        expect(again).toEqual([]);
        expect(new Set(first.map((s) => s.id)).size).toBe(first.length);
      }),
      { numRuns: 100 },
    );
  });
});

describe('rule state', () => {
  it('round-trips through JSON and continues identically', () => {
    const rsis = [50, 25, 31, 29, 36, 28, 33, 75, 69, 72, 60];
    const a = createRuleState();
    const fired: Signal[] = [];
    let b = createRuleState();
    const firedB: Signal[] = [];
    rsis.forEach((rsi, i) => {
      fired.push(...evaluateBar(a, bar(i, { rsi, ema: 100 + Math.sin(i), ma: 100 }), DEFAULT_RULES));
      b = deserializeRuleState(serializeRuleState(b));
      firedB.push(...evaluateBar(b, bar(i, { rsi, ema: 100 + Math.sin(i), ma: 100 }), DEFAULT_RULES));
    });
    expect(fired.length).toBeGreaterThan(0);
    expect(firedB).toEqual(fired);
  });

  it('refuses other versions and bad shapes', () => {
    const good = JSON.parse(serializeRuleState(createRuleState()));
    expect(() => deserializeRuleState('nope')).toThrow(/not valid JSON/);
    expect(() => deserializeRuleState(JSON.stringify({ ...good, v: 2 }))).toThrow(/unsupported rule state version 2/);
    expect(() => deserializeRuleState(JSON.stringify({ ...good, crossSign: 2 }))).toThrow(/crossSign must be -1, 0 or 1/);
    expect(() => deserializeRuleState(JSON.stringify({ ...good, lastFired: { bogus: 1 } }))).toThrow(/lastFired\.bogus/);
  });
});
