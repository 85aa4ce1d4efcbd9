import { describe, expect, it } from '@jest/globals';
import { MarketGenerator, type PriceRecord } from '../../../shared/generator/generator';
import { DEFAULT_FILE_START_MS } from '../../../shared/generator/plan';
import { SCENARIO_NAMES, type ScenarioName } from '../../../shared/generator/scenarios';
import { profileFor, universeOfSize } from '../../../shared/generator/universe';
import { autocorrelation, correlation, excessKurtosis, logReturns, mean } from './statistics';

const RETURNS = 20_000;
const SEEDS = [1, 2, 3];

function bars(scenario: ScenarioName, seed: number, symbols: string[], perSymbol: number): Map<string, PriceRecord[]> {
  const g = new MarketGenerator({
    seed, scenario, symbols: symbols.map(profileFor), timeframeMs: 60_000, tickRate: 100,
    startMs: DEFAULT_FILE_START_MS, clock: 'calendar', count: perSymbol * symbols.length,
  });
  const out = new Map<string, PriceRecord[]>(symbols.map((s) => [s, []]));
  for (const r of g) (out.get(r.symbol) as PriceRecord[]).push(r);
  return out;
}

const returnsMemo = new Map<string, number[]>();
function returnsOf(scenario: ScenarioName, seed: number): number[] {
  const key = `${scenario}/${seed}`;
  let r = returnsMemo.get(key);
  if (!r) {
    const series = bars(scenario, seed, ['AAPL'], RETURNS + 1).get('AAPL') as PriceRecord[];
    returnsMemo.set(key, (r = logReturns(series.map((x) => x.close))));
  }
  return r;
}

describe('stylized facts of returns (Cont 2001) on 20,000 one-minute returns', () => {
  it.each(SEEDS)('volatile, seed %i: fat tails and volatility clustering', (seed) => {
    const r = returnsOf('volatile', seed);
    expect(r.length).toBeGreaterThanOrEqual(RETURNS);
    // A normal sample of this size has excess kurtosis 0 ± 0.035 (sd √(24/n)).
    expect(excessKurtosis(r)).toBeGreaterThan(1);
    // Squared returns of i.i.d. data have lag-1 autocorrelation 0 ± 0.007.
    expect(autocorrelation(r.map((x) => x * x))).toBeGreaterThan(0.1);
  });

  it.each(SEEDS)('calm, seed %i: close to i.i.d. normal — no excess kurtosis, no clustering', (seed) => {
    const r = returnsOf('calm', seed);
    expect(Math.abs(excessKurtosis(r))).toBeLessThan(0.2);
    expect(Math.abs(autocorrelation(r.map((x) => x * x)))).toBeLessThan(0.03);
  });

  it.each(['calm', 'volatile', 'mixed'] as const)('%s: returns themselves are almost uncorrelated', (scenario) => {
    for (const seed of SEEDS) expect(Math.abs(autocorrelation(returnsOf(scenario, seed)))).toBeLessThan(0.05);
  });

  it.each(SCENARIO_NAMES)('%s: lag-1 autocorrelation of returns stays small even with trends and crashes', (scenario) => {
    expect(Math.abs(autocorrelation(returnsOf(scenario, 1)))).toBeLessThan(0.1);
  });
});

describe('cross-section and volume', () => {
  it('symbols move together through the market factor (positive, not perfect, correlation)', () => {
    const series = bars('calm', 1, ['AAPL', 'MSFT'], 5001);
    const a = logReturns((series.get('AAPL') as PriceRecord[]).map((r) => r.close));
    const m = logReturns((series.get('MSFT') as PriceRecord[]).map((r) => r.close));
    // β_A·β_M·σ_m² / (σ_A·σ_M) = 1.1 · 0.95 · 0.16² / (0.25 · 0.24) ≈ 0.45 from the universe's constants.
    const rho = correlation(a, m);
    expect(rho).toBeGreaterThan(0.3);
    expect(rho).toBeLessThan(0.6);
  });

  it('volume rises with the size of the move', () => {
    const series = bars('volatile', 1, ['AAPL'], 10_001).get('AAPL') as PriceRecord[];
    const absReturns = logReturns(series.map((r) => r.close)).map(Math.abs);
    const volumes = series.slice(1).map((r) => r.volume);
    expect(correlation(absReturns, volumes)).toBeGreaterThan(0.3);
  });

  it('bar volume is U-shaped over the session: the open and close are busier than midday', () => {
    const series = bars('calm', 1, ['AAPL'], 390 * 40).get('AAPL') as PriceRecord[];
    const byMinute = Array.from({ length: 390 }, () => [] as number[]);
    series.forEach((r, i) => (byMinute[i % 390] as number[]).push(r.volume));
    const avg = (from: number, to: number) => mean(byMinute.slice(from, to).flat());
    const open = avg(0, 30);
    const midday = avg(180, 210);
    const close = avg(360, 390);
    expect(open / midday).toBeGreaterThan(2);
    expect(close / midday).toBeGreaterThan(2);
  });
});

describe('trade arrivals', () => {
  let memo: PriceRecord[] | undefined;
  // Two sessions at 1 trade/s: ~47,000 trades, ~2,000 to 6,000 in each half-hour window compared below.
  const trades = (): PriceRecord[] =>
    (memo ??= [
      ...new MarketGenerator({
        seed: 4, scenario: 'mixed', symbols: universeOfSize(10), tickRate: 1,
        startMs: DEFAULT_FILE_START_MS, clock: 'calendar', durationMs: 2 * 23_400_000,
      }),
    ]);

  it('follow the intraday curve: the first half hour is ~3x as busy as midday', () => {
    const records = trades();
    const secondOfSession = (r: PriceRecord) => ((r.timestamp - Date.UTC(2024, 0, 2, 14, 30)) / 1000) % 86_400;
    const count = (from: number, to: number) => records.filter((r) => secondOfSession(r) >= from && secondOfSession(r) < to).length;
    // Mean activity over the first 30 min vs 30 min around noon, from the curve (1 + 3x² + 0.4(1−φ))/2.2:
    // about 1.66 vs 0.55, so ≈ 3.0; with thousands of arrivals per window the ratio is known to within a few percent.
    const ratio = count(0, 1800) / count(10_800, 12_600);
    expect(ratio).toBeGreaterThan(2.5);
    expect(ratio).toBeLessThan(3.6);
  });

  it('are a Poisson process: in a flat stretch the gaps are exponential (coefficient of variation ≈ 1)', () => {
    const records = trades();
    const session0 = records.filter((r) => r.timestamp < Date.UTC(2024, 0, 2, 21, 0));
    const midday = session0.filter((r) => r.timestamp >= Date.UTC(2024, 0, 2, 17, 0) && r.timestamp < Date.UTC(2024, 0, 2, 18, 30));
    const gaps = midday.slice(1).map((r, i) => r.timestamp - (midday[i] as PriceRecord).timestamp);
    const m = mean(gaps);
    const sd = Math.sqrt(mean(gaps.map((g) => (g - m) ** 2)));
    expect(sd / m).toBeGreaterThan(0.9);
    expect(sd / m).toBeLessThan(1.1);
  });
});
