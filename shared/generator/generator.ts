/**
 * Turns the price process into canonical records, in time order.
 *
 * Bar mode (a timeframe is given): every step is one bar for every symbol,
 * stamped by the clock; OHLC comes from a Brownian bridge over the bar and
 * volume from the intraday curve and the size of the move.
 *
 * Tick mode (no timeframe): trades arrive as a Poisson process whose rate
 * follows the intraday curve (thinning of a homogeneous process at the peak
 * rate), each trade picks a symbol by liquidity and is one record with
 * open = high = low = close = the trade price and volume = the trade size.
 * The model advances one minute-long "bar" unit per minute of trading time.
 */
import type { PriceRecord } from '../schema/records';
import { barClock, type ClockKind, intradayActivity, MAX_INTRADAY_ACTIVITY, SESSION_SECONDS, tickClock } from './clock';
import { MarketFactor, SymbolProcess, bridgeExtremes, type StepResult } from './model';
import { gridFor, roundToGrid } from './pricing';
import { Rng } from './random';
import { SCENARIOS, type ScenarioName } from './scenarios';
import type { SymbolProfile } from './universe';

export type { PriceRecord };

export interface GeneratorOptions {
  seed: number;
  scenario: ScenarioName;
  symbols: readonly SymbolProfile[];
  /** Bar length in ms; absent = tick mode. */
  timeframeMs?: number;
  /** Tick mode: mean trades per second of trading time, over all symbols. */
  tickRate: number;
  /** Where simulated time begins (epoch ms); see clock.ts for how the clock kinds use it. */
  startMs: number;
  clock: ClockKind;
  /** Stop after this many records… */
  count?: number;
  /** …or after this much simulated trading time. */
  durationMs?: number;
}

const TRADING_YEAR_SECONDS = 252 * SESSION_SECONDS;
const TICK_UNIT_SECONDS = 60;
const DAY_MS = 86_400_000;

/** Length of one model bar in trading years: intraday timeframes in session seconds, daily bars as one session. */
export function barYearsFor(timeframeMs: number | undefined): number {
  if (timeframeMs === undefined) return TICK_UNIT_SECONDS / TRADING_YEAR_SECONDS;
  if (timeframeMs >= DAY_MS) return timeframeMs / DAY_MS / 252;
  return timeframeMs / 1000 / TRADING_YEAR_SECONDS;
}

/** Typical shares per bar at this timeframe, before the intraday and volatility factors. */
function baseVolumePerBar(profile: SymbolProfile, timeframeMs: number): number {
  if (timeframeMs >= DAY_MS) return profile.dailyVolume * (timeframeMs / DAY_MS);
  return (profile.dailyVolume * timeframeMs) / 1000 / SESSION_SECONDS;
}

function meanTradeSize(profile: SymbolProfile): number {
  return Math.min(500, Math.max(50, profile.dailyVolume / 2e5));
}

export class MarketGenerator implements Iterable<PriceRecord> {
  readonly market: MarketFactor;
  readonly processes: SymbolProcess[];
  /** Records produced so far. */
  produced = 0;
  private readonly step: StepResult = { from: 0, to: 0, diffusiveVariance: 0, surprise: 0 };
  private readonly maxCount: number;
  // bar mode
  private barIndex = 0;
  private symbolCursor = 0;
  private readonly maxBars: number;
  private readonly bars?: ReturnType<typeof barClock>;
  private barTimestamp = 0;
  private barPhaseActivity = 1;
  // tick mode
  private readonly ticks?: ReturnType<typeof tickClock>;
  private readonly arrivals: Rng;
  private tradingSeconds = 0;
  private lastMarketSeconds = 0;
  private readonly lastTradeSeconds: Float64Array;
  private readonly cumulativeWeights: Float64Array;
  private readonly maxTradingSeconds: number;

  constructor(readonly options: GeneratorOptions) {
    const scenario = SCENARIOS[options.scenario];
    const barYears = barYearsFor(options.timeframeMs);
    this.market = new MarketFactor(scenario, options.seed, barYears);
    this.processes = options.symbols.map((p, i) => new SymbolProcess(p, i, scenario, this.market, options.seed, barYears));
    this.arrivals = new Rng(options.seed, 2);
    this.maxCount = options.count ?? Number.POSITIVE_INFINITY;
    const tf = options.timeframeMs;
    if (tf !== undefined) {
      this.bars = barClock(options.clock, options.startMs, tf);
      this.maxBars = options.durationMs !== undefined ? Math.floor(options.durationMs / tf) : Number.POSITIVE_INFINITY;
      this.maxTradingSeconds = Number.POSITIVE_INFINITY;
    } else {
      this.ticks = tickClock(options.clock, options.startMs);
      this.maxBars = Number.POSITIVE_INFINITY;
      this.maxTradingSeconds = options.durationMs !== undefined ? options.durationMs / 1000 : Number.POSITIVE_INFINITY;
    }
    this.lastTradeSeconds = new Float64Array(options.symbols.length);
    // Busier names trade more often, but sub-linearly so the quiet ones still print.
    this.cumulativeWeights = new Float64Array(options.symbols.length);
    let acc = 0;
    options.symbols.forEach((p, i) => {
      acc += Math.sqrt(p.dailyVolume);
      this.cumulativeWeights[i] = acc;
    });
  }

  [Symbol.iterator](): Iterator<PriceRecord> {
    return {
      next: () => {
        const value = this.next();
        return value === undefined ? { done: true, value: undefined } : { done: false, value };
      },
    };
  }

  /** The next record, or undefined once the count or duration is reached. */
  next(): PriceRecord | undefined {
    if (this.produced >= this.maxCount) return undefined;
    const record = this.bars ? this.nextBar(this.bars) : this.nextTick();
    if (record) this.produced++;
    return record;
  }

  /** Current price of symbol i (unrounded), for the typed records that quote it. */
  price(i: number): number {
    return Math.exp((this.processes[i] as SymbolProcess).logPrice);
  }

  private nextBar(clock: NonNullable<typeof this.bars>): PriceRecord | undefined {
    if (this.symbolCursor === 0) {
      if (this.barIndex >= this.maxBars) return undefined;
      this.market.step(1);
      this.barTimestamp = clock.timestamp(this.barIndex);
      const phase = clock.phase(this.barIndex);
      this.barPhaseActivity = phase === undefined ? 1 : intradayActivity(phase);
    }
    const proc = this.processes[this.symbolCursor] as SymbolProcess;
    if (++this.symbolCursor === this.processes.length) {
      this.symbolCursor = 0;
      this.barIndex++;
    }
    const s = this.step;
    proc.step(1, s);
    const rng = proc.random;
    const { up, down } = bridgeExtremes(s.to - s.from, s.diffusiveVariance, rng);
    const openRaw = Math.exp(s.from);
    const grid = gridFor(openRaw, proc.profile.tickSize);
    const open = roundToGrid(openRaw, grid);
    const close = roundToGrid(Math.exp(s.to), grid);
    const high = Math.max(roundToGrid(Math.exp(s.from + up), grid), open, close);
    const low = Math.min(roundToGrid(Math.exp(s.from + down), grid), open, close);
    // Volume follows activity and the size of the move (|return| and the current volatility level).
    const noise = Math.exp(0.3 * rng.normal() - 0.045);
    const volume = Math.round(
      baseVolumePerBar(proc.profile, this.options.timeframeMs as number) * this.barPhaseActivity * (0.4 + 0.6 * s.surprise) * noise,
    );
    return { symbol: proc.profile.symbol, timestamp: this.barTimestamp, open, high, low, close, volume };
  }

  private nextTick(): PriceRecord | undefined {
    const clock = this.ticks as NonNullable<typeof this.ticks>;
    const peakRate = this.options.tickRate * MAX_INTRADAY_ACTIVITY;
    const rng = this.arrivals;
    // Thinning: candidates at the peak rate, kept with probability activity/peak.
    for (;;) {
      this.tradingSeconds += rng.exponential() / peakRate;
      if (this.tradingSeconds > this.maxTradingSeconds) return undefined;
      const phase = ((this.tradingSeconds + clock.initialOffset) % SESSION_SECONDS) / SESSION_SECONDS;
      if (rng.uniform() * MAX_INTRADAY_ACTIVITY < intradayActivity(phase)) break;
    }
    const now = this.tradingSeconds;
    this.market.step((now - this.lastMarketSeconds) / TICK_UNIT_SECONDS);
    this.lastMarketSeconds = now;

    const weights = this.cumulativeWeights;
    const target = rng.uniform() * (weights[weights.length - 1] as number);
    let i = 0;
    while ((weights[i] as number) <= target && i < weights.length - 1) i++;
    const proc = this.processes[i] as SymbolProcess;
    const s = this.step;
    proc.step((now - (this.lastTradeSeconds[i] as number)) / TICK_UNIT_SECONDS, s);
    this.lastTradeSeconds[i] = now;

    const raw = Math.exp(s.to);
    const price = roundToGrid(raw, gridFor(raw, proc.profile.tickSize));
    const sizeNoise = Math.exp(0.9 * proc.random.normal() - 0.405);
    const volume = Math.max(1, Math.round(meanTradeSize(proc.profile) * sizeNoise * (0.6 + 0.4 * Math.min(s.surprise, 10))));
    return { symbol: proc.profile.symbol, timestamp: clock.timestamp(now), open: price, high: price, low: price, close: price, volume };
  }
}
