import { describe, expect, it } from '@jest/globals';
import { MarketGenerator } from '../../../shared/generator/generator';
import { gridFor, gridForTick, roundToGrid } from '../../../shared/generator/pricing';
import { profileFor } from '../../../shared/generator/universe';

describe('tick sizes and printed precision', () => {
  it('follows Reg NMS Rule 612: $0.01 at or above $1, $0.0001 below', () => {
    expect(String(roundToGrid(190.23456, gridFor(190.23456)))).toBe('190.23');
    expect(String(roundToGrid(1.005001, gridFor(1.005001)))).toBe('1.01');
    expect(String(roundToGrid(0.123456, gridFor(0.123456)))).toBe('0.1235');
    expect(gridFor(0.99).decimals).toBe(4);
    expect(gridFor(1).decimals).toBe(2);
  });

  it('supports a coarser per-symbol tick', () => {
    const nickel = gridForTick(0.05);
    expect(String(roundToGrid(10.07, nickel))).toBe('10.05');
    expect(String(roundToGrid(10.08, nickel))).toBe('10.1');
    expect(String(roundToGrid(1234.4, gridForTick(1)))).toBe('1234');
    expect(() => gridForTick(0)).toThrow(/tick size must be a positive number/);
  });

  it('never rounds a price to zero', () => {
    expect(roundToGrid(0.00001, gridFor(0.00001))).toBe(0.0001);
  });

  it('prints generated prices without binary noise: at most 2 decimals at or above $1', () => {
    const g = new MarketGenerator({
      seed: 3, scenario: 'volatile', symbols: ['AAPL', 'F', 'TSLA'].map(profileFor), timeframeMs: 60_000, tickRate: 100,
      startMs: 0, clock: 'continuous', count: 30_000,
    });
    const bad: string[] = [];
    for (const r of g) {
      for (const p of [r.open, r.high, r.low, r.close]) {
        const decimals = String(p).split('.')[1]?.length ?? 0;
        if (decimals > (p >= 1 ? 2 : 4)) bad.push(String(p));
      }
      if (!Number.isInteger(r.volume)) bad.push(`volume ${r.volume}`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('applies a symbol tick size from its profile', () => {
    const profile = { ...profileFor('ACME'), tickSize: 0.05 };
    const g = new MarketGenerator({ seed: 1, scenario: 'mixed', symbols: [profile], timeframeMs: 60_000, tickRate: 100, startMs: 0, clock: 'continuous', count: 2000 });
    const offGrid = [...g].flatMap((r) => [r.open, r.high, r.low, r.close]).filter((p) => Math.abs(p * 20 - Math.round(p * 20)) > 1e-9);
    expect(offGrid).toEqual([]);
  });
});
