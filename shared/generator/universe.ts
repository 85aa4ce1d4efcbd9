/**
 * The symbols the generator simulates and the per-symbol constants that make
 * their series look like the real thing: price level, beta to the market,
 * volatility, trading activity, and the share count / earnings behind the
 * seed's `market_data` records.
 */
import { SYMBOL_PATTERN } from '../schema/records';
import { Rng, hashString } from './random';

export interface SymbolProfile {
  symbol: string;
  /** Starting price in dollars. */
  price: number;
  /** Sensitivity to the market factor; drives cross-symbol correlation. */
  beta: number;
  /** Annualised volatility of log returns (0.25 = 25 %). */
  annualVol: number;
  /** Typical shares traded per full session. */
  dailyVolume: number;
  sharesOutstanding: number;
  /** Trailing earnings per share, for the P/E of `market_data` records. */
  eps: number;
  /** Minimum price increment when the price-level rule is not wanted (e.g. a venue with a coarser grid). */
  tickSize?: number;
}

/**
 * Roughly where these names traded in 2024. Betas and volatilities are typical
 * published values, rounded; they only need to be plausible, not current.
 */
export const DEFAULT_UNIVERSE: readonly SymbolProfile[] = [
  { symbol: 'AAPL', price: 190, beta: 1.1, annualVol: 0.25, dailyVolume: 55e6, sharesOutstanding: 15.4e9, eps: 6.4 },
  { symbol: 'MSFT', price: 415, beta: 0.95, annualVol: 0.24, dailyVolume: 20e6, sharesOutstanding: 7.43e9, eps: 11.8 },
  { symbol: 'GOOGL', price: 170, beta: 1.05, annualVol: 0.28, dailyVolume: 25e6, sharesOutstanding: 12.3e9, eps: 7.5 },
  { symbol: 'AMZN', price: 185, beta: 1.2, annualVol: 0.3, dailyVolume: 40e6, sharesOutstanding: 10.4e9, eps: 4.2 },
  { symbol: 'NVDA', price: 120, beta: 1.7, annualVol: 0.5, dailyVolume: 250e6, sharesOutstanding: 24.5e9, eps: 2.5 },
  { symbol: 'TSLA', price: 245, beta: 2.0, annualVol: 0.6, dailyVolume: 90e6, sharesOutstanding: 3.2e9, eps: 2.2 },
  { symbol: 'JPM', price: 205, beta: 1.0, annualVol: 0.22, dailyVolume: 9e6, sharesOutstanding: 2.85e9, eps: 17 },
  { symbol: 'XOM', price: 115, beta: 0.8, annualVol: 0.25, dailyVolume: 15e6, sharesOutstanding: 4.4e9, eps: 8 },
  { symbol: 'BRK.B', price: 410, beta: 0.85, annualVol: 0.17, dailyVolume: 3.5e6, sharesOutstanding: 2.16e9, eps: 20 },
  { symbol: 'F', price: 12.5, beta: 1.3, annualVol: 0.35, dailyVolume: 50e6, sharesOutstanding: 4.0e9, eps: 1.2 },
];

export { SYMBOL_PATTERN };
export const MAX_SYMBOLS = 500;

/**
 * A symbol outside the default universe gets constants derived from its name,
 * so `--symbols ACME` is the same stock in every run whatever the seed.
 */
export function profileFor(symbol: string): SymbolProfile {
  const known = DEFAULT_UNIVERSE.find((p) => p.symbol === symbol);
  if (known) return known;
  const rng = new Rng(hashString(symbol), 0x5eed);
  const price = roundTo(Math.exp(Math.log(5) + rng.uniform() * Math.log(100)), 2); // $5 – $500, log-uniform
  return {
    symbol,
    price,
    beta: roundTo(0.6 + rng.uniform(), 2),
    annualVol: roundTo(0.18 + 0.4 * rng.uniform(), 2),
    dailyVolume: Math.round(1e6 + 2e7 * rng.uniform()),
    sharesOutstanding: Math.round(2e8 + 3e9 * rng.uniform()),
    eps: roundTo(price / (10 + 30 * rng.uniform()), 2),
  };
}

/** `--symbols N` picks the first N of the default universe, then synthetic SYM011, SYM012… */
export function universeOfSize(n: number): SymbolProfile[] {
  const out: SymbolProfile[] = [];
  for (let i = 0; i < n; i++) {
    const known = DEFAULT_UNIVERSE[i];
    out.push(known ?? profileFor(`SYM${String(i + 1).padStart(3, '0')}`));
  }
  return out;
}

function roundTo(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}
