import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { barStart, TIMEFRAME_MS, TIMEFRAMES, type Timeframe } from '../../../shared/engine/bars';
import {
  applyRecord,
  createSymbolState,
  DEFAULT_ENGINE_CONFIG,
  deserializeState,
  EngineStateError,
  flushSymbol,
  isStateCompatible,
  serializeState,
  type EngineConfig,
  type IndicatorBar,
  type SymbolState,
} from '../../../shared/engine/engine';
import { createIndicatorState, DEFAULT_PERIODS, updateIndicators } from '../../../shared/engine/indicators';
import type { PriceRecord } from '../../../shared/schema/records';
import { randomWalk } from './reference';

const T0 = Date.parse('2024-05-01T13:00:00Z');
const MIN = 60_000;
const cfg1m: EngineConfig = { timeframe: '1m', periods: { ma: 3, ema: 3, rsi: 2 } };
const tick = (timestamp: number, price: number, volume = 1, symbol = 'AAPL'): PriceRecord => ({ symbol, timestamp, open: price, high: price, low: price, close: price, volume });

describe('barStart', () => {
  it('aligns bars to UTC boundaries', () => {
    const t = Date.parse('2024-05-01T13:37:42.123Z');
    expect(barStart(t, '1m')).toBe(Date.parse('2024-05-01T13:37:00Z'));
    expect(barStart(t, '5m')).toBe(Date.parse('2024-05-01T13:35:00Z'));
    expect(barStart(t, '15m')).toBe(Date.parse('2024-05-01T13:30:00Z'));
    expect(barStart(t, '1h')).toBe(Date.parse('2024-05-01T13:00:00Z'));
    expect(barStart(t, '1d')).toBe(Date.parse('2024-05-01T00:00:00Z'));
    expect(barStart(t, 'tick')).toBe(t);
  });

  it('puts a boundary instant in the bar it starts, and floors times before 1970', () => {
    expect(barStart(Date.parse('2024-05-01T13:35:00Z'), '5m')).toBe(Date.parse('2024-05-01T13:35:00Z'));
    expect(barStart(Date.parse('2024-05-01T13:34:59.999Z'), '5m')).toBe(Date.parse('2024-05-01T13:30:00Z'));
    expect(barStart(-1, '1m')).toBe(-60_000);
  });

  it('every timeframe but tick has a positive length that divides a day', () => {
    for (const tf of TIMEFRAMES) {
      if (tf === 'tick') expect(TIMEFRAME_MS[tf]).toBe(0);
      else expect(86_400_000 % TIMEFRAME_MS[tf]).toBe(0);
    }
  });
});

describe('bars', () => {
  it('builds OHLCV, VWAP and trade count, and closes when a later bar starts', () => {
    const s = createSymbolState('AAPL', cfg1m);
    expect(applyRecord(s, tick(T0 + 1000, 10, 100), cfg1m).closed).toEqual([]);
    applyRecord(s, tick(T0 + 2000, 12, 300), cfg1m);
    applyRecord(s, tick(T0 + 3000, 9, 100), cfg1m);
    const r = applyRecord(s, tick(T0 + 4000, 11, 500), cfg1m);
    expect(r.snapshot.openBar).toMatchObject({ time: T0, open: 10, high: 12, low: 9, close: 11, volume: 1000, trades: 4 });
    // VWAP = (10*100 + 12*300 + 9*100 + 11*500) / 1000 = 11000 / 1000
    expect(r.snapshot.openBar!.vwap).toBeCloseTo(11, 12);

    const next = applyRecord(s, tick(T0 + MIN + 5, 13), cfg1m);
    expect(next.late).toBe(false);
    expect(next.closed).toHaveLength(1);
    expect(next.closed[0]).toMatchObject({ symbol: 'AAPL', timeframe: '1m', time: T0, open: 10, high: 12, low: 9, close: 11, volume: 1000, trades: 4 });
    expect(next.snapshot.openBar).toMatchObject({ time: T0 + MIN, open: 13, close: 13, trades: 1 });
  });

  it('uses typical price (h + l + c) / 3 for candle records in the VWAP, and close when there is no volume', () => {
    const s = createSymbolState('AAPL', cfg1m);
    applyRecord(s, { symbol: 'AAPL', timestamp: T0, open: 10, high: 12, low: 9, close: 11, volume: 2 }, cfg1m);
    const r = applyRecord(s, { symbol: 'AAPL', timestamp: T0 + 1, open: 11, high: 11, low: 11, close: 11, volume: 2 }, cfg1m);
    // (32/3 * 2 + 11 * 2) / 4 = 65/6
    expect(r.snapshot.openBar!.vwap).toBeCloseTo(65 / 6, 12);
    const z = createSymbolState('AAPL', cfg1m);
    expect(applyRecord(z, tick(T0, 7, 0), cfg1m).snapshot.openBar!.vwap).toBe(7);
  });

  it('takes open and close by event time when records inside a bar arrive out of order', () => {
    const s = createSymbolState('AAPL', cfg1m);
    applyRecord(s, tick(T0 + 30_000, 20), cfg1m);
    applyRecord(s, tick(T0 + 50_000, 22), cfg1m);
    applyRecord(s, tick(T0 + 10_000, 18), cfg1m); // earlier, arrives last
    const r = applyRecord(s, tick(T0 + 40_000, 25), cfg1m);
    expect(r.snapshot.openBar).toMatchObject({ open: 18, close: 22, high: 25, low: 18 });
    expect(r.snapshot.lastPrice).toBe(22);
    expect(r.snapshot.lastTimestamp).toBe(T0 + 50_000);
  });

  it('emits no bars for periods without records', () => {
    const s = createSymbolState('AAPL', cfg1m);
    applyRecord(s, tick(T0, 10), cfg1m);
    const r = applyRecord(s, tick(T0 + 10 * MIN, 11), cfg1m);
    expect(r.closed.map((b) => b.time)).toEqual([T0]);
    expect(s.ind.n).toBe(1);
  });

  it('treats a record for an already closed bar as late and changes nothing', () => {
    const s = createSymbolState('AAPL', cfg1m);
    applyRecord(s, tick(T0, 10), cfg1m);
    applyRecord(s, tick(T0 + MIN, 11), cfg1m); // closes T0
    const before = serializeState(s);
    const r = applyRecord(s, tick(T0 + 59_000, 99, 1000), cfg1m);
    expect(r.late).toBe(true);
    expect(r.closed).toEqual([]);
    expect(serializeState(s)).toBe(before);
    expect(r.snapshot.openBar).toMatchObject({ time: T0 + MIN, close: 11, volume: 1 });
  });

  it('after a flush, a record for the flushed bar is late; one for a later bar opens it', () => {
    const s = createSymbolState('AAPL', cfg1m);
    applyRecord(s, tick(T0, 10), cfg1m);
    const flushed = flushSymbol(s, cfg1m);
    expect(flushed).toHaveLength(1);
    expect(flushed[0]!.time).toBe(T0);
    expect(flushSymbol(s, cfg1m)).toEqual([]);
    expect(applyRecord(s, tick(T0 + 5, 10), cfg1m).late).toBe(true);
    expect(applyRecord(s, tick(T0 + MIN, 10), cfg1m).late).toBe(false);
  });

  it('commits indicators at bar close only; the open bar shows provisional values from a peek', () => {
    const s = createSymbolState('AAPL', cfg1m);
    const closes = [10, 11, 12, 11, 13];
    const reference = createIndicatorState(cfg1m.periods);
    const committed: IndicatorBar[] = [];
    closes.forEach((c, i) => {
      const r1 = applyRecord(s, tick(T0 + i * MIN, c - 0.5), cfg1m);
      const r2 = applyRecord(s, tick(T0 + i * MIN + 1000, c), cfg1m);
      committed.push(...r1.closed, ...r2.closed);
      expect(r2.closed).toEqual([]);
      if (i > 0) updateIndicators(reference, closes[i - 1]!);
      // Provisional equals what committing the bar's current close would give.
      const peekRef = structuredClone(reference);
      expect(r2.snapshot.openBar!.provisional).toEqual(updateIndicators(peekRef, c));
      if (i > 0) expect(r1.snapshot.indicators).toEqual(createAndRun(cfg1m, closes.slice(0, i)));
    });
    expect(committed.map((b) => b.close)).toEqual([10, 11, 12, 11]);
    expect(committed.map((b) => b.ma)).toEqual([null, null, 11, 34 / 3]);
  });
});

function createAndRun(cfg: EngineConfig, closes: number[]) {
  const st = createIndicatorState(cfg.periods);
  let v = { ma: null as number | null, ema: null as number | null, rsi: null as number | null };
  for (const c of closes) v = updateIndicators(st, c);
  return v;
}

describe('tick mode', () => {
  const cfg: EngineConfig = { timeframe: 'tick', periods: DEFAULT_PERIODS };

  it('makes every record its own closed bar with the indicators after it', () => {
    const s = createSymbolState('AAPL', cfg);
    const closes = randomWalk(40, 5);
    const ref = createIndicatorState(DEFAULT_PERIODS);
    closes.forEach((c, i) => {
      const r = applyRecord(s, tick(T0 + i, c, 2), cfg);
      expect(r.closed).toHaveLength(1);
      expect(r.closed[0]).toEqual({ symbol: 'AAPL', timeframe: 'tick', time: T0 + i, open: c, high: c, low: c, close: c, volume: 2, vwap: c, trades: 1, ...updateIndicators(ref, c) });
      expect(r.snapshot.openBar).toBeNull();
    });
  });

  it('accepts equal timestamps as separate trades and flags earlier ones as late', () => {
    const s = createSymbolState('AAPL', cfg);
    applyRecord(s, tick(T0, 1), cfg);
    expect(applyRecord(s, tick(T0, 2), cfg).closed).toHaveLength(1);
    const late = applyRecord(s, tick(T0 - 1, 3), cfg);
    expect(late.late).toBe(true);
    expect(late.closed).toEqual([]);
    expect(s.ind.n).toBe(2);
    expect(flushSymbol(s, cfg)).toEqual([]);
  });
});

describe('state', () => {
  const recordsArb = (tf: Timeframe) =>
    fc.array(fc.record({ dt: fc.integer({ min: -2 * MIN, max: 3 * MIN }), price: fc.double({ min: 0.01, max: 1e5, noNaN: true }), volume: fc.integer({ min: 0, max: 1e6 }) }), { maxLength: 120, size: 'max' })
      .map((xs) => {
        let t = T0;
        return xs.map(({ dt, price, volume }) => {
          t += tf === 'tick' ? Math.round(dt / 1000) : dt;
          return tick(t, price, volume);
        });
      });

  for (const tf of ['tick', '1m', '5m'] as const) {
    it(`${tf}: serializing at any points between records continues bit for bit (streaming = one pass)`, () => {
      const cfg: EngineConfig = { timeframe: tf, periods: { ma: 5, ema: 4, rsi: 3 } };
      fc.assert(
        fc.property(recordsArb(tf), fc.array(fc.nat(), { maxLength: 5 }), (records, cuts) => {
          const one = createSymbolState('AAPL', cfg);
          const expected = records.map((r) => applyRecord(one, r, cfg));
          let s: SymbolState = createSymbolState('AAPL', cfg);
          const cutSet = new Set(cuts.map((c) => c % (records.length + 1)));
          const got = records.map((r, i) => {
            if (cutSet.has(i)) s = deserializeState(serializeState(s));
            return applyRecord(s, r, cfg);
          });
          // toEqual distinguishes -0 from 0 and compares numbers exactly.
          expect(got).toEqual(expected);
          expect(flushSymbol(deserializeState(serializeState(s)), cfg)).toEqual(flushSymbol(one, cfg));
        }),
        { numRuns: 100 },
      );
    });
  }

  it('stays under 1 KB serialized at default periods, warmed up with full-precision prices and an open bar', () => {
    const s = createSymbolState('BRK.B-WARRNT', DEFAULT_ENGINE_CONFIG);
    const closes = randomWalk(5000, 9, 123.456789);
    let worst = 0;
    closes.forEach((c, i) => {
      applyRecord(s, { symbol: 'BRK.B-WARRNT', timestamp: T0 + i * 7_001, open: c, high: c * 1.0012345, low: c / 1.0012345, close: c, volume: 123_456_789 + i }, DEFAULT_ENGINE_CONFIG);
      worst = Math.max(worst, Buffer.byteLength(serializeState(s)));
    });
    expect(s.bar).not.toBeNull();
    expect(worst).toBeLessThanOrEqual(1024);
  });

  it('refuses state of another version or shape, naming the problem', () => {
    const s = createSymbolState('AAPL', cfg1m);
    applyRecord(s, tick(T0, 10), cfg1m);
    const good = JSON.parse(serializeState(s));
    expect(() => deserializeState('{')).toThrow(/not valid JSON/);
    expect(() => deserializeState('[]')).toThrow(/must be a JSON object/);
    expect(() => deserializeState(JSON.stringify({ ...good, v: 99 }))).toThrow(/unsupported state version 99 \(expected 1\)/);
    expect(() => deserializeState(JSON.stringify({ ...good, tf: '2m' }))).toThrow(/tf must be one of/);
    expect(() => deserializeState(JSON.stringify({ ...good, bar: { ...good.bar, c: 'x' } }))).toThrow(/bar\.c must be a finite number/);
    expect(() => deserializeState(JSON.stringify({ ...good, ind: { ...good.ind, w: [1, 2] } }))).toThrow(/ind\.w has 2 values, expected 0/);
    expect(() => deserializeState(JSON.stringify({ ...good, ind: { ...good.ind, p: { ma: 0, ema: 1, rsi: 1 } } }))).toThrow(/ma period must be an integer/);
    expect(deserializeState(JSON.stringify(good))).toEqual(s);
  });

  it('refuses to apply a record under a different config or for another symbol', () => {
    const s = createSymbolState('AAPL', cfg1m);
    const other: EngineConfig = { timeframe: '5m', periods: cfg1m.periods };
    expect(isStateCompatible(s, other)).toBe(false);
    expect(() => applyRecord(s, tick(T0, 1), other)).toThrow(EngineStateError);
    expect(() => applyRecord(s, tick(T0, 1), { ...cfg1m, periods: { ...cfg1m.periods, rsi: 14 } })).toThrow(/config asks for 1m, ma 3 \/ ema 3 \/ rsi 14/);
    expect(() => applyRecord(s, tick(T0, 1, 1, 'MSFT'), cfg1m)).toThrow(/record for MSFT applied to the state of AAPL/);
    expect(() => createSymbolState('AAPL', { timeframe: '2m' as Timeframe, periods: DEFAULT_PERIODS })).toThrow(/unknown timeframe/);
  });
});
