/**
 * Independent references for the indicator tests. Nothing here shares code
 * with shared/engine: one is exact (BigInt fixed point), one is the textbook
 * batch formula over whole arrays.
 */
import type { IndicatorPeriods, IndicatorValues } from '../../../shared/engine/indicators';

// Module-scoped copies: under jest's vm context each global lookup (Math, BigInt,
// Number) in a million-step loop costs ~100 ns.
const { imul } = Math;
const toBig = BigInt;
const toNum = Number;

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Geometric random walk; full-precision doubles, kept inside [1, 10000]. */
export function randomWalk(n: number, seed: number, start = 100): number[] {
  const rnd = mulberry32(seed);
  const out = new Array<number>(n);
  let p = start;
  for (let i = 0; i < n; i++) {
    p *= 1 + (rnd() - 0.5) * 0.02;
    if (p < 1) p = 1 + rnd();
    if (p > 10000) p = 10000 - rnd();
    out[i] = p;
  }
  return out;
}

/**
 * Exact reference. Prices in [1, 10000] have an ulp of at least 2^-52, so
 * p * 2^60 is an exact integer: the SMA window sum is computed exactly, and
 * EMA / Wilder averages in fixed point with 2^-120 resolution (each step's
 * truncation is below 1e-36 and the recurrences are contractions), which is
 * exact for a 1e-9 comparison.
 */
export function exactReference(closes: readonly number[], p: IndicatorPeriods): IndicatorValues[] {
  const out: IndicatorValues[] = [];
  exactReferenceEach(closes, p, (_i, ma, ema, rsi) => out.push({ ma, ema, rsi }));
  return out;
}

/** Same as exactReference, streaming each step's values to a callback (no 1e6-element arrays). */
export function exactReferenceEach(
  closes: readonly number[],
  p: IndicatorPeriods,
  onValue: (i: number, ma: number | null, ema: number | null, rsi: number | null) => void,
): void {
  const F = 60n, G = 120n;
  const xs: bigint[] = [];
  let windowSum = 0n;
  let emaSeed = 0n;
  let ema: bigint | null = null;
  let gainSum = 0n, lossSum = 0n, avgGain = 0n, avgLoss = 0n;
  const k2 = 2n, kDen = BigInt(p.ema + 1), nEma = BigInt(p.ema), nRsi = BigInt(p.rsi);
  const toNumber = (fixed: bigint, shift: bigint) => toNum(fixed) / 2 ** toNum(shift);
  for (let i = 0; i < closes.length; i++) {
    const c = closes[i]!;
    if (!(c >= 1 && c <= 10000)) throw new Error('exactReference needs prices in [1, 10000]');
    const x = toBig(c * 2 ** 60);
    xs.push(x);
    windowSum += x;
    if (xs.length > p.ma) windowSum -= xs[xs.length - 1 - p.ma]!;
    const ma = xs.length >= p.ma ? toNum(windowSum) / p.ma / 2 ** 60 : null;

    const xg = x << (G - F);
    if (ema === null) {
      emaSeed += xg;
      if (xs.length === p.ema) ema = emaSeed / nEma;
    } else {
      ema = ema + ((xg - ema) * k2) / kDen;
    }

    let rsi: number | null = null;
    if (i > 0) {
      const d = xg - (xs[i - 1]! << (G - F));
      const gain = d > 0n ? d : 0n, loss = d < 0n ? -d : 0n;
      if (i < p.rsi) { gainSum += gain; lossSum += loss; }
      else if (i === p.rsi) { avgGain = (gainSum + gain) / nRsi; avgLoss = (lossSum + loss) / nRsi; }
      else { avgGain = (avgGain * (nRsi - 1n) + gain) / nRsi; avgLoss = (avgLoss * (nRsi - 1n) + loss) / nRsi; }
      if (i >= p.rsi) {
        const total = avgGain + avgLoss;
        rsi = total === 0n ? 50 : toNum((avgGain * 100n << 64n) / total) / 2 ** 64;
      }
    }
    onValue(i, ma, ema === null ? null : toNumber(ema, G), rsi);
  }
}

/** Textbook batch formulas over the whole array (O(N) per output). */
export function batchReference(closes: readonly number[], p: IndicatorPeriods): IndicatorValues[] {
  const out: IndicatorValues[] = [];
  const k = 2 / (p.ema + 1);
  let ema: number | null = null;
  let avgGain = 0, avgLoss = 0;
  for (let i = 0; i < closes.length; i++) {
    let ma: number | null = null;
    if (i + 1 >= p.ma) {
      let s = 0;
      for (let j = i + 1 - p.ma; j <= i; j++) s += closes[j]!;
      ma = s / p.ma;
    }
    if (i + 1 === p.ema) {
      let s = 0;
      for (let j = 0; j < p.ema; j++) s += closes[j]!;
      ema = s / p.ema;
    } else if (ema !== null) {
      ema = closes[i]! * k + ema * (1 - k);
    }
    let rsi: number | null = null;
    if (i === p.rsi) {
      let g = 0, l = 0;
      for (let j = 1; j <= p.rsi; j++) {
        const d = closes[j]! - closes[j - 1]!;
        if (d > 0) g += d; else l -= d;
      }
      avgGain = g / p.rsi;
      avgLoss = l / p.rsi;
    } else if (i > p.rsi) {
      const d = closes[i]! - closes[i - 1]!;
      avgGain = (avgGain * (p.rsi - 1) + Math.max(d, 0)) / p.rsi;
      avgLoss = (avgLoss * (p.rsi - 1) + Math.max(-d, 0)) / p.rsi;
    }
    if (i >= p.rsi) rsi = avgGain + avgLoss === 0 ? 50 : (100 * avgGain) / (avgGain + avgLoss);
    out.push({ ma, ema, rsi });
  }
  return out;
}

/** |a - b| <= tol * max(|b|, floor); null must match null. */
export function closeTo(a: number | null, b: number | null, tol: number, floor = 1e-9): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= tol * Math.max(Math.abs(b), floor);
}
