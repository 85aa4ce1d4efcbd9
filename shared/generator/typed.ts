/**
 * The seed's typed records, in exactly its wire format (timestamps in epoch
 * seconds, snake_case fields, a `data_type` tag). They are sent one object per
 * `POST /ingest`. Their values follow the simulated market: order prices sit
 * around the current price, news sentiment leans with the latest move,
 * market cap and P/E move with the price.
 */
import { gridFor, roundToGrid } from './pricing';
import { Rng } from './random';
import type { SymbolProfile } from './universe';

export interface OrderBookRecord {
  timestamp: number;
  stock_symbol: string;
  order_type: 'buy' | 'sell';
  price: number;
  quantity: number;
  data_type: 'order_book';
}
export interface NewsSentimentRecord {
  timestamp: number;
  stock_symbol: string;
  sentiment_score: number;
  sentiment_magnitude: number;
  data_type: 'news_sentiment';
}
export interface MarketDataRecord {
  timestamp: number;
  stock_symbol: string;
  market_cap: number;
  pe_ratio: number;
  data_type: 'market_data';
}
export interface EconomicIndicatorRecord {
  timestamp: number;
  indicator_name: string;
  value: number;
  data_type: 'economic_indicator';
}
export type TypedRecord = OrderBookRecord | NewsSentimentRecord | MarketDataRecord | EconomicIndicatorRecord;
export type TypedRecordKind = TypedRecord['data_type'];

/** Starting values and per-release step sizes, in percent (index points for confidence). */
const INDICATORS = [
  { name: 'GDP Growth Rate', start: 2.5, step: 0.3, min: -8, max: 10 },
  { name: 'Inflation Rate', start: 3.1, step: 0.15, min: -2, max: 12 },
  { name: 'Unemployment Rate', start: 3.8, step: 0.1, min: 2, max: 15 },
  { name: 'Interest Rate', start: 5.25, step: 0.25, min: 0, max: 10 },
  { name: 'Consumer Confidence Index', start: 102, step: 2, min: 50, max: 140 },
] as const;

/** Mix of kinds: the order book is by far the chattiest feed. */
const KIND_WEIGHTS: ReadonlyArray<[TypedRecordKind, number]> = [
  ['order_book', 0.55],
  ['news_sentiment', 0.2],
  ['market_data', 0.15],
  ['economic_indicator', 0.1],
];

const round = (x: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
};

export class TypedRecordGenerator {
  private readonly rng: Rng;
  private readonly indicatorValues: number[] = INDICATORS.map((i) => i.start);
  private readonly lastNewsPrice: Float64Array;

  constructor(
    seed: number,
    private readonly symbols: readonly SymbolProfile[],
  ) {
    // Its own stream: the price records stay the same whatever --typed-share is.
    this.rng = new Rng(seed, 3);
    this.lastNewsPrice = new Float64Array(symbols.length);
  }

  /**
   * @param timestampMs when the record is emitted (simulated time)
   * @param priceOf current price of symbol i
   */
  next(timestampMs: number, priceOf: (i: number) => number): TypedRecord {
    const rng = this.rng;
    const timestamp = timestampMs / 1000;
    let pick = rng.uniform();
    let kind: TypedRecordKind = 'order_book';
    for (const [k, w] of KIND_WEIGHTS) {
      kind = k;
      if ((pick -= w) < 0) break;
    }
    if (kind === 'economic_indicator') {
      const i = rng.int(INDICATORS.length);
      const spec = INDICATORS[i] as (typeof INDICATORS)[number];
      const value = Math.min(spec.max, Math.max(spec.min, (this.indicatorValues[i] as number) + spec.step * rng.normal()));
      this.indicatorValues[i] = value;
      return { timestamp, indicator_name: spec.name, value: round(value, 2), data_type: 'economic_indicator' };
    }
    const s = rng.int(this.symbols.length);
    const profile = this.symbols[s] as SymbolProfile;
    const price = priceOf(s);
    if (kind === 'order_book') {
      const side = rng.uniform() < 0.5 ? 'buy' : 'sell';
      // Resting orders sit a few ticks to a few tenths of a percent away from the market, on their own side.
      const away = Math.abs(rng.normal()) * 0.002 * price;
      const grid = gridFor(price, profile.tickSize);
      const quantity = Math.max(1, Math.round(100 * Math.exp(0.8 * rng.normal())));
      return {
        timestamp,
        stock_symbol: profile.symbol,
        order_type: side,
        price: roundToGrid(side === 'buy' ? price - away : price + away, grid),
        quantity,
        data_type: 'order_book',
      };
    }
    if (kind === 'news_sentiment') {
      const previous = this.lastNewsPrice[s] || profile.price;
      this.lastNewsPrice[s] = price;
      // Headlines lean with the move since the last story about the symbol; 2 % up is solidly positive.
      const lean = Math.log(price / previous) * 25;
      const score = Math.tanh(lean + 0.5 * rng.normal());
      const magnitude = Math.min(1, Math.abs(score) * 0.7 + 0.3 * rng.uniform());
      return { timestamp, stock_symbol: profile.symbol, sentiment_score: round(score, 4), sentiment_magnitude: round(magnitude, 4), data_type: 'news_sentiment' };
    }
    return {
      timestamp,
      stock_symbol: profile.symbol,
      market_cap: Math.round(price * profile.sharesOutstanding),
      pe_ratio: round(price / profile.eps, 2),
      data_type: 'market_data',
    };
  }
}

/**
 * How many typed records to emit after each price record so that they make up
 * `share` of all output: a running credit, so the mix is exact over any
 * stretch and needs no randomness.
 */
export class TypedShareMeter {
  private credit = 0;
  private readonly perPriceRecord: number;
  constructor(share: number) {
    if (!(share >= 0 && share < 1)) throw new RangeError(`typed share must be in [0, 1), got ${share}`);
    this.perPriceRecord = share / (1 - share);
  }
  afterPriceRecord(): number {
    this.credit += this.perPriceRecord;
    const n = Math.floor(this.credit + 1e-9);
    this.credit -= n;
    return n;
  }
}
