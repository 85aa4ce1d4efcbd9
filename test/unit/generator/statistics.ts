/**
 * Sample statistics written out from their definitions, so the tests check the
 * generator against textbook formulas rather than against code under test.
 */

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Excess kurtosis m4 / m2² − 3 (population moments); 0 for a normal distribution. */
export function excessKurtosis(xs: readonly number[]): number {
  const m = mean(xs);
  let m2 = 0;
  let m4 = 0;
  for (const x of xs) {
    const d = x - m;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  m2 /= xs.length;
  m4 /= xs.length;
  return m4 / (m2 * m2) - 3;
}

/** Sample autocorrelation at a lag: Σ (x_t − x̄)(x_{t−lag} − x̄) / Σ (x_t − x̄)². */
export function autocorrelation(xs: readonly number[], lag = 1): number {
  const m = mean(xs);
  let num = 0;
  let den = 0;
  for (let t = 0; t < xs.length; t++) {
    const d = (xs[t] as number) - m;
    den += d * d;
    if (t >= lag) num += d * ((xs[t - lag] as number) - m);
  }
  return num / den;
}

/** Pearson correlation. */
export function correlation(xs: readonly number[], ys: readonly number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

export function logReturns(closes: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < closes.length; i++) out.push(Math.log((closes[i] as number) / (closes[i - 1] as number)));
  return out;
}
