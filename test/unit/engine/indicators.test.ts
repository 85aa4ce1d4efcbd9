import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  createIndicatorState,
  currentIndicators,
  DEFAULT_PERIODS,
  indicatorStateProblems,
  peekIndicators,
  PeriodError,
  updateIndicators,
  type IndicatorPeriods,
  type IndicatorState,
  type IndicatorValues,
} from '../../../shared/engine/indicators';
import { batchReference, closeTo, exactReferenceEach, randomWalk } from './reference';

// Module-scoped: global lookups are slow inside jest's vm context, and this runs 3e6 times.
const { abs, max } = Math;

function run(closes: readonly number[], periods: IndicatorPeriods, state: IndicatorState = createIndicatorState(periods)): IndicatorValues[] {
  return closes.map((c) => updateIndicators(state, c));
}

const same = (a: IndicatorValues, b: IndicatorValues) => Object.is(a.ma, b.ma) && Object.is(a.ema, b.ema) && Object.is(a.rsi, b.rsi);
const priceArb = fc.double({ min: 0.01, max: 1e6, noNaN: true, noDefaultInfinity: true });
const periodsArb = fc.record({ ma: fc.integer({ min: 1, max: 30 }), ema: fc.integer({ min: 1, max: 30 }), rsi: fc.integer({ min: 1, max: 30 }) });

describe('known answers', () => {
  it("Wilder's 14-period example gives the first RSI 70.4641 (exact averages, not the rounded 70.53)", () => {
    const closes = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.1, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28, 46.28];
    const values = run(closes, { ma: 14, ema: 14, rsi: 14 });
    expect(values.slice(0, 14).every((v) => v.rsi === null)).toBe(true);
    expect(Math.abs(values[14]!.rsi! - 70.4641)).toBeLessThan(5e-5);
  });

  it('Tulip Indicators RSI(5) example gives 72.034', () => {
    const values = run([81.59, 81.06, 82.87, 83.0, 83.61, 83.15], { ma: 5, ema: 5, rsi: 5 });
    expect(values[4]!.rsi).toBeNull();
    expect(Math.abs(values[5]!.rsi! - 72.034)).toBeLessThan(5e-4);
  });

  it('matches a series computed by hand with fractions (periods 3)', () => {
    // closes 1,2,3,2,1,2; k = 1/2; changes +1,+1,-1,-1,+1
    const v = run([1, 2, 3, 2, 1, 2], { ma: 3, ema: 3, rsi: 3 });
    const expected: IndicatorValues[] = [
      { ma: null, ema: null, rsi: null },
      { ma: null, ema: null, rsi: null },
      { ma: 2, ema: 2, rsi: null },
      { ma: 7 / 3, ema: 2, rsi: 100 * (2 / 3) }, // avg gain 2/3, avg loss 1/3
      { ma: 2, ema: 1.5, rsi: 100 * (4 / 9) }, // gain (2/3*2+0)/3 = 4/9, loss (1/3*2+1)/3 = 5/9
      { ma: 5 / 3, ema: 1.75, rsi: 100 * (17 / 27) }, // gain (4/9*2+1)/3 = 17/27, loss 10/27
    ];
    v.forEach((got, i) => {
      const want = expected[i]!;
      expect(closeTo(got.ma, want.ma, 1e-14)).toBe(true);
      expect(closeTo(got.ema, want.ema, 1e-14)).toBe(true);
      expect(closeTo(got.rsi, want.rsi, 1e-14)).toBe(true);
    });
  });

  it('a constant series has MA = EMA = exactly the constant and RSI 50 (documented deviation from TA-Lib 0)', () => {
    // 0.1 and friends are not exact in binary: a plain sum / N gives 0.10000000000000002 for some N.
    for (const x of [0.1, 0.3, 0.7, 12.34, 99.99, 123.456]) {
      for (const n of [3, 7, 14, 20, 21]) {
        const v = run(new Array(3 * n).fill(x), { ma: n, ema: n, rsi: n });
        for (const value of v.slice(n - 1)) {
          expect(value.ma).toBe(x);
          expect(value.ema).toBe(x);
        }
        expect(v.at(-1)!.rsi).toBe(50);
      }
    }
  });

  it('a rising linear series has RSI 100 and EMA = MA = close - (N-1)/2; a falling one has RSI 0', () => {
    const up = Array.from({ length: 60 }, (_, i) => 10 + i);
    const v = run(up, DEFAULT_PERIODS);
    for (let i = 19; i < 60; i++) {
      const lag = (20 - 1) / 2; // the EMA's steady-state lag on a ramp equals the SMA's
      expect(v[i]!.ma).toBeCloseTo(up[i]! - lag, 10);
      expect(v[i]!.ema).toBeCloseTo(up[i]! - lag, 10);
    }
    expect(v.slice(14).every((x) => x.rsi === 100)).toBe(true);
    const down = run(up.slice().reverse(), DEFAULT_PERIODS);
    expect(down.slice(14).every((x) => x.rsi === 0)).toBe(true);
  });

  it('warms up after exactly N closes (MA, EMA) and N + 1 closes (RSI)', () => {
    const v = run(randomWalk(30, 1), { ma: 7, ema: 11, rsi: 5 });
    expect(v.findIndex((x) => x.ma !== null)).toBe(6);
    expect(v.findIndex((x) => x.ema !== null)).toBe(10);
    expect(v.findIndex((x) => x.rsi !== null)).toBe(5);
  });
});

describe('exactness', () => {
  it('stays within 1e-9 of an exact BigInt reference over 1,000,000 closes (no drift)', () => {
    const closes = randomWalk(1_000_000, 42);
    const state = createIndicatorState(DEFAULT_PERIODS);
    let worst = 0, mismatches = 0;
    const compare = (a: number | null, b: number | null) => {
      if (a === null || b === null) { if (a !== b) mismatches++; return; }
      const rel = abs(a - b) / max(abs(b), 1e-9);
      if (rel > worst) worst = rel;
    };
    exactReferenceEach(closes, DEFAULT_PERIODS, (i, ma, ema, rsi) => {
      const got = updateIndicators(state, closes[i]!);
      compare(got.ma, ma);
      compare(got.ema, ema);
      compare(got.rsi, rsi);
    });
    expect(mismatches).toBe(0);
    expect(worst).toBeLessThan(1e-9);
  });

  it('recovers the exact MA after a regime of huge prices, where a naive running sum drifts', () => {
    const closes = [...new Array(1000).fill(0).map((_, i) => 1e9 + (i % 7) * 0.37), ...new Array(1000).fill(0.01)];
    // Control: the naive add-new/subtract-old sum is visibly wrong on this data, so the test discriminates.
    let naive = 0;
    for (let i = 0; i < closes.length; i++) {
      naive += closes[i]!;
      if (i >= 20) naive -= closes[i - 20]!;
    }
    expect(Math.abs(naive / 20 - 0.01) / 0.01).toBeGreaterThan(1e-9);

    const v = run(closes, DEFAULT_PERIODS);
    expect(Math.abs(v[1999]!.ma! - 0.01) / 0.01).toBeLessThan(1e-12);
    // And at every step of the small regime, not only at a ring wrap.
    for (let i = 1020; i < 2000; i++) expect(Math.abs(v[i]!.ma! - 0.01) / 0.01).toBeLessThan(1e-12);
  });

  it('streaming equals the batch formulas (property)', () => {
    fc.assert(
      fc.property(fc.array(priceArb, { maxLength: 120, size: 'max' }), periodsArb, (closes, periods) => {
        const stream = run(closes, periods);
        const batch = batchReference(closes, periods);
        return stream.every((s, i) => {
          const b = batch[i]!;
          // Relative to the window's scale: prices span 8 decades, so sums cancel.
          const scale = Math.max(...closes.slice(Math.max(0, i - 40), i + 1));
          return (['ma', 'ema'] as const).every((k) => closeTo(s[k], b[k], 1e-9, scale)) && closeTo(s.rsi, b.rsi, 1e-7, 1);
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('properties', () => {
  it('RSI is always within [0, 100]', () => {
    fc.assert(fc.property(fc.array(priceArb, { maxLength: 200, size: 'max' }), periodsArb, (closes, periods) =>
      run(closes, periods).every((v) => v.rsi === null || (v.rsi >= 0 && v.rsi <= 100))), { numRuns: 300 });
  });

  it("MA lies within the window's min and max", () => {
    // Few distinct values make windows with repeated or equal prices, where double rounding shows.
    const closesArb = fc.oneof(
      fc.array(priceArb, { maxLength: 200, size: 'max' }),
      fc.array(fc.constantFrom(0.1, 0.2, 0.3, 0.7, 1.1, 33.33), { maxLength: 200, size: 'max' }),
    );
    fc.assert(fc.property(closesArb, periodsArb, (closes, periods) =>
      run(closes, periods).every((v, i) => {
        if (v.ma === null) return true;
        const window = closes.slice(i + 1 - periods.ma, i + 1);
        return v.ma >= Math.min(...window) && v.ma <= Math.max(...window);
      })), { numRuns: 300 });
  });

  it('peek returns exactly what the next update returns, and commits nothing', () => {
    fc.assert(fc.property(fc.array(priceArb, { maxLength: 80, size: 'max' }), periodsArb, (closes, periods) => {
      const state = createIndicatorState(periods);
      return closes.every((c) => {
        const before = JSON.stringify(state);
        const peeked = peekIndicators(state, c);
        const peekedTwice = peekIndicators(state, c * 1.5);
        if (JSON.stringify(state) !== before || peekedTwice === null) return false;
        return same(peeked, updateIndicators(state, c));
      });
    }), { numRuns: 300 });
  });

  it('a JSON round trip at any point continues bit for bit', () => {
    fc.assert(fc.property(fc.array(priceArb, { minLength: 1, maxLength: 100, size: 'max' }), fc.nat(), periodsArb, (closes, cut, periods) => {
      const at = cut % closes.length;
      const a = createIndicatorState(periods);
      run(closes.slice(0, at), periods, a);
      const b = JSON.parse(JSON.stringify(a)) as IndicatorState;
      expect(indicatorStateProblems(b)).toEqual([]);
      const rest = closes.slice(at);
      const va = run(rest, periods, a), vb = run(rest, periods, b);
      return va.every((v, i) => same(v, vb[i]!)) && same(currentIndicators(a), currentIndicators(b));
    }), { numRuns: 300 });
  });

  it('currentIndicators equals what the last update returned', () => {
    const state = createIndicatorState(DEFAULT_PERIODS);
    for (const c of randomWalk(100, 7)) {
      const v = updateIndicators(state, c);
      expect(same(currentIndicators(state), v)).toBe(true);
    }
  });
});

describe('state', () => {
  it('rejects invalid periods with a message naming the period', () => {
    expect(() => createIndicatorState({ ma: 0, ema: 20, rsi: 14 })).toThrow(PeriodError);
    expect(() => createIndicatorState({ ma: 20, ema: 2.5, rsi: 14 })).toThrow(/ema period must be an integer/);
    expect(() => createIndicatorState({ ma: 20, ema: 20, rsi: 100000 })).toThrow(/rsi period must be an integer from 1 to 1000/);
  });

  it('reports a corrupted state', () => {
    const s = createIndicatorState(DEFAULT_PERIODS);
    run(randomWalk(30, 3), DEFAULT_PERIODS, s);
    expect(indicatorStateProblems(s)).toEqual([]);
    expect(indicatorStateProblems({ ...s, v: 2 })[0]).toMatch(/v must be 1/);
    expect(indicatorStateProblems({ ...s, w: s.w.slice(1) })[0]).toMatch(/w has 19 values, expected 20/);
    expect(indicatorStateProblems({ ...s, ws: 'x' })[0]).toMatch(/ws must be a finite number/);
    expect(indicatorStateProblems(null)[0]).toMatch(/must be an object/);
  });
});
