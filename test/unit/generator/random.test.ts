import { describe, expect, it } from '@jest/globals';
import { hashString, Rng } from '../../../shared/generator/random';
import { excessKurtosis, mean } from './statistics';

const draw = (n: number, f: () => number) => Array.from({ length: n }, f);

describe('seeded PRNG', () => {
  it('repeats exactly for a seed and stream, and differs across seeds and streams', () => {
    const a = new Rng(12345, 0);
    const b = new Rng(12345, 0);
    const seqA = draw(1000, () => a.nextUint32());
    expect(draw(1000, () => b.nextUint32())).toEqual(seqA);
    const other = new Rng(12346, 0);
    const stream = new Rng(12345, 1);
    const same = (xs: number[]) => xs.filter((x, i) => x === seqA[i]).length;
    expect(same(draw(1000, () => other.nextUint32()))).toBeLessThan(3);
    expect(same(draw(1000, () => stream.nextUint32()))).toBeLessThan(3);
  });

  it('uniform(): mean 1/2, variance 1/12, never 0 or 1', () => {
    const r = new Rng(1);
    const xs = draw(200_000, () => r.uniform());
    const m = mean(xs);
    expect(m).toBeCloseTo(0.5, 2);
    expect(mean(xs.map((x) => (x - m) ** 2))).toBeCloseTo(1 / 12, 3);
    expect(xs.every((x) => x > 0 && x < 1)).toBe(true);
  });

  it('normal(): mean 0, variance 1, excess kurtosis 0', () => {
    const r = new Rng(2);
    const xs = draw(200_000, () => r.normal());
    expect(Math.abs(mean(xs))).toBeLessThan(0.01);
    expect(mean(xs.map((x) => x * x))).toBeCloseTo(1, 1);
    expect(Math.abs(excessKurtosis(xs))).toBeLessThan(0.05);
    // P(|Z| > 1.96) = 0.05
    expect(xs.filter((x) => Math.abs(x) > 1.96).length / xs.length).toBeCloseTo(0.05, 2);
  });

  it('exponential() has mean 1 and poissonSmall(λ) has mean and variance λ', () => {
    const r = new Rng(3);
    expect(mean(draw(100_000, () => r.exponential()))).toBeCloseTo(1, 1);
    const ks = draw(100_000, () => r.poissonSmall(0.3));
    const m = mean(ks);
    expect(m).toBeCloseTo(0.3, 1);
    expect(mean(ks.map((k) => (k - m) ** 2))).toBeCloseTo(0.3, 1);
    expect(r.poissonSmall(0)).toBe(0);
  });

  it('refuses seeds that are not safe integers', () => {
    expect(() => new Rng(1.5)).toThrow(/safe integer/);
    expect(() => new Rng(2 ** 60)).toThrow(/safe integer/);
  });

  it('hashString is stable and spreads names', () => {
    expect(hashString('AAPL')).toBe(hashString('AAPL'));
    expect(hashString('AAPL')).not.toBe(hashString('AAPM'));
  });
});
