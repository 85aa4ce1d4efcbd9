/**
 * Where simulated time sits and when each record is sent.
 *
 * Files (--out) are reproducible: simulated time starts at --start or at a
 * fixed default, so the same options and seed give the same bytes on any day.
 *
 * Live sending must satisfy ingest's window (timestamps within the last 7 days
 * and at most 5 minutes ahead of the receiver's clock), so the timeline is
 * placed relative to the launch time:
 * - trades at a numeric --rate: simulated time starts at launch and each trade
 *   is sent when the wall clock reaches its timestamp;
 * - bars at a numeric --rate: bars go out evenly at --rate; simulated time
 *   runs faster than the wall clock, so it is placed to end when the last bar
 *   is sent (no timestamp is ever ahead of its send time);
 * - --rate max: the whole timeline is placed to end at launch, a backfill.
 */
import { expectedTradingSecondsFor, type ClockKind } from './clock';
import type { GeneratorOptions, PriceRecord } from './generator';
import { UsageError, type GenerateOptions } from './options';

/** Default start of simulated time for --out: a Tuesday's New York open (2024-01-02 09:30 EST). */
export const DEFAULT_FILE_START_MS = Date.UTC(2024, 0, 2, 14, 30);
export const INGEST_MAX_AGE_MS = 7 * 86_400_000;
/** Room for the run itself and for clock differences between here and the API. */
const AGE_MARGIN_MS = 3_600_000;

/** When a record is due; undefined = as soon as possible. */
export type Schedule = (record: PriceRecord, index: number) => number | undefined;

export interface SimulationPlan {
  generator: GeneratorOptions;
  schedule: Schedule;
  /** Expected number of price records, for progress and ETA (undefined when unknown). */
  expectedTotal?: number;
}

export function planSimulation(opts: GenerateOptions, launchMs: number): SimulationPlan {
  const live = opts.destination.kind !== 'file';
  const clock: ClockKind = opts.clock ?? (live ? 'continuous' : 'calendar');
  const nSymbols = opts.symbols.length;
  const tickRate = typeof opts.rate === 'number' ? opts.rate : 100;
  const durationMs = opts.durationSeconds !== undefined ? opts.durationSeconds * 1000 : undefined;
  const tf = opts.timeframeMs;

  let expectedTotal: number | undefined;
  let spanMs: number;
  if (tf !== undefined) {
    const steps = opts.count !== undefined ? Math.ceil(opts.count / nSymbols) : Math.floor((durationMs as number) / tf);
    expectedTotal = opts.count ?? steps * nSymbols;
    spanMs = steps * tf;
  } else if (opts.count !== undefined) {
    expectedTotal = opts.count;
    spanMs = expectedTradingSecondsFor(opts.count, tickRate) * 1000;
  } else {
    expectedTotal = Math.round(((durationMs as number) / 1000) * tickRate);
    spanMs = durationMs as number;
  }

  const base = {
    seed: opts.seed,
    scenario: opts.scenario,
    symbols: opts.symbols,
    timeframeMs: tf,
    tickRate,
    clock,
    count: opts.count,
    durationMs,
  };

  if (!live) {
    return { generator: { ...base, startMs: opts.startMs ?? DEFAULT_FILE_START_MS }, schedule: () => undefined, expectedTotal };
  }

  let startMs: number;
  let schedule: Schedule;
  if (opts.rate === 'max') {
    startMs = launchMs - spanMs;
    schedule = () => undefined;
  } else if (tf === undefined) {
    startMs = launchMs;
    schedule = (record) => record.timestamp;
  } else {
    const rate = opts.rate;
    const sendMs = ((expectedTotal ?? 0) / rate) * 1000;
    startMs = launchMs + Math.min(0, sendMs - spanMs);
    schedule = (_record, index) => launchMs + (index * 1000) / rate;
  }
  if (opts.startMs !== undefined) startMs = opts.startMs;
  else if (startMs < launchMs - INGEST_MAX_AGE_MS + AGE_MARGIN_MS) {
    const days = (spanMs / 86_400_000).toFixed(1);
    throw new UsageError(
      `this run's simulated data would span ${days} days, but the ingest API accepts timestamps from the last 7 days only; ` +
        'lower --count or --duration, use a shorter --timeframe, or write a file with --out',
    );
  }
  return { generator: { ...base, startMs }, schedule, expectedTotal };
}

/**
 * Replay of historical bars at `speed` times real time: record i is due at
 * launch + (t_i − t_0)/speed and, unless the timestamps are kept, is restamped
 * to that moment so the live pipeline sees it as fresh.
 */
export function replaySchedule(records: readonly PriceRecord[], launchMs: number, speed: number, keepTimestamps: boolean): Schedule {
  const t0 = records[0]?.timestamp ?? 0;
  return (record) => {
    const due = launchMs + (record.timestamp - t0) / speed;
    if (!keepTimestamps) record.timestamp = Math.round(due);
    return due;
  };
}

