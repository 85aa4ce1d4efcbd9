/**
 * Textbook MA/EMA/RSI, recomputed from the whole close series every time: slow,
 * obviously correct, and independent of the streaming engine. The verify command
 * and the end-to-end tests check the running system against these.
 */
export interface ReferenceValues {
  ma: number | null;
  ema: number | null;
  rsi: number | null;
}

export function referenceIndicators(closes: readonly number[], periods = { ma: 20, ema: 20, rsi: 14 }): ReferenceValues {
  return { ma: sma(closes, periods.ma), ema: ema(closes, periods.ema), rsi: rsi(closes, periods.rsi) };
}

function sma(c: readonly number[], n: number): number | null {
  if (c.length < n) return null;
  let s = 0;
  for (let i = c.length - n; i < c.length; i++) s += c[i]!;
  return s / n;
}

/** Seeded with the SMA of the first n closes, then k = 2/(n+1). */
function ema(c: readonly number[], n: number): number | null {
  if (c.length < n) return null;
  let e = 0;
  for (let i = 0; i < n; i++) e += c[i]!;
  e /= n;
  const k = 2 / (n + 1);
  for (let i = n; i < c.length; i++) e = c[i]! * k + e * (1 - k);
  return e;
}

/** Wilder: simple averages of the first n changes, then avg = (avg*(n-1) + x)/n. Both averages zero → 50. */
function rsi(c: readonly number[], n: number): number | null {
  if (c.length < n + 1) return null;
  let g = 0;
  let l = 0;
  for (let i = 1; i <= n; i++) {
    const d = c[i]! - c[i - 1]!;
    if (d > 0) g += d;
    else l -= d;
  }
  g /= n;
  l /= n;
  for (let i = n + 1; i < c.length; i++) {
    const d = c[i]! - c[i - 1]!;
    g = (g * (n - 1) + Math.max(d, 0)) / n;
    l = (l * (n - 1) + Math.max(-d, 0)) / n;
  }
  if (g === 0 && l === 0) return 50;
  if (l === 0) return 100;
  return 100 - 100 / (1 + g / l);
}

/** Relative difference, for comparing a streamed value with the reference. */
export function relDiff(a: number | null, b: number | null): number {
  if (a === null || b === null) return a === b ? 0 : Infinity;
  return Math.abs(a - b) / Math.max(1e-12, Math.abs(b));
}
