/**
 * Command-line options of `npm run chaos`, checked up front so every mistake is
 * named before anything is created or killed.
 */
import { parseArgs } from 'node:util';
import { parseGenerateArgs, UsageError } from '../generator/options';
import { defaultWindowMs, OUTAGE_KINDS, type OutageKind } from './plan';

export class ChaosUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChaosUsageError';
  }
}

export interface ChaosOptions {
  kills: number;
  seed: number;
  records: number;
  symbols: number;
  timeframe: string;
  scenario: string;
  /** Length of the fault run's feed, over which the faults are spread. */
  windowMs: number;
  outages: OutageKind[];
  /** Outage lengths that differ from DEFAULT_OUTAGE_MS. */
  durations: Partial<Record<OutageKind, number>>;
  /** Bound on waiting for a pipeline to drain after its feed and faults. */
  drainTimeoutMs: number;
  /** Lag must stay 0 this long to count as drained. */
  quietMs: number;
  /** Redis logical databases for the clean and the fault run; default: the first two empty ones from 15 down. */
  redisDbs?: [number, number];
  /** Keep topics, Redis databases, SQLite files and queues for inspection. */
  keep: boolean;
  outDir: string;
  /** Diagnostic: override every event source's maxRetries (default: as functions.ts sets it). */
  maxRetries?: number;
  maxRetryBackoffMs?: number;
  help: boolean;
}

export const CHAOS_USAGE = `Usage: npm run chaos -- [options]

Sends one seeded generator run through the local pipeline twice, once clean and once
with faults (kill -9 of stage workers, Redis stopped and flushed, broker restart, SNS
endpoint down), then compares indicator state, bars, signal ids and notifications.
Exit code 0 when nothing was lost or doubled, 1 otherwise, 2 for bad options.

  --kills N            worker kills in the fault run (default 20; 100 is the long run)
  --seed N             seed of the input and of the fault schedule (default 1)
  --records N          price records of input (default 4000, or 200 per kill beyond 20)
  --symbols N          symbols (default 4)
  --timeframe TF       generator bar timeframe (default 1m: every record closes an indicator bar)
  --scenario NAME      generator scenario (default mixed)
  --duration SECONDS   length of the fault run's feed (default: enough for the outages, and ~2.5 s per kill)
  --faults LIST        outages to inject, comma-separated from ${OUTAGE_KINDS.join(',')}
                       (default all; "none" for kills only)
  --durations LIST     outage lengths in seconds, e.g. redis-down=30,sns-down=60
                       (default redis 10, sns 30; kafka-restart reserves 45)
  --drain-timeout S    bound on the drain after the last fault (default 300)
  --quiet S            lag must stay 0 for S seconds to count as drained (default 5)
  --redis-dbs A,B      Redis logical databases for the clean and fault run (default: two empty ones, 15 down)
  --max-retries N      diagnostic: override maxRetries of every event source mapping
  --max-retry-backoff-ms N   diagnostic: override maxRetryBackoffMs likewise
  --keep               keep the runs' topics, Redis databases, SQLite files and queues
  --out DIR            where the JSON report goes (default artifacts)
  --help
`;

export const MAX_INPUT_SPAN_MS = 6 * 86_400_000;

export function parseChaosArgs(argv: readonly string[]): ChaosOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        kills: { type: 'string' },
        seed: { type: 'string' },
        records: { type: 'string' },
        symbols: { type: 'string' },
        timeframe: { type: 'string' },
        scenario: { type: 'string' },
        duration: { type: 'string' },
        faults: { type: 'string' },
        durations: { type: 'string' },
        'drain-timeout': { type: 'string' },
        quiet: { type: 'string' },
        'redis-dbs': { type: 'string' },
        'max-retries': { type: 'string' },
        'max-retry-backoff-ms': { type: 'string' },
        keep: { type: 'boolean' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ChaosUsageError((err as Error).message);
  }
  const str = (k: string) => values[k] as string | undefined;
  const int = (k: string, def: number, min: number, max: number): number => {
    const raw = str(k);
    if (raw === undefined) return def;
    const n = /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new ChaosUsageError(`--${k} must be an integer from ${min} to ${max}, got "${raw}"`);
    return n;
  };

  let outages: OutageKind[] = [...OUTAGE_KINDS];
  const faults = str('faults');
  if (faults !== undefined) {
    const list = faults.split(',').map((s) => s.trim()).filter(Boolean);
    if (list.length === 1 && list[0] === 'none') outages = [];
    else {
      const bad = list.filter((f) => !(OUTAGE_KINDS as readonly string[]).includes(f));
      if (bad.length || list.length === 0) throw new ChaosUsageError(`--faults takes a comma-separated list of ${OUTAGE_KINDS.join(', ')} (or none), got "${faults}"`);
      outages = [...new Set(list as OutageKind[])];
    }
  }

  const durations: Partial<Record<OutageKind, number>> = {};
  const durText = str('durations');
  if (durText !== undefined) {
    for (const part of durText.split(',').map((x) => x.trim()).filter(Boolean)) {
      const m = /^([a-z-]+)=(\d+(?:\.\d+)?)$/.exec(part);
      if (!m || !(OUTAGE_KINDS as readonly string[]).includes(m[1]!) || m[1] === 'redis-flush') {
        throw new ChaosUsageError(`--durations takes KIND=SECONDS pairs with KIND one of ${OUTAGE_KINDS.filter((k) => k !== 'redis-flush').join(', ')}, got "${part}"`);
      }
      durations[m[1] as OutageKind] = Math.round(Number(m[2]) * 1000);
    }
  }

  let redisDbs: [number, number] | undefined;
  const dbs = str('redis-dbs');
  if (dbs !== undefined) {
    const parts = dbs.split(',').map((s) => s.trim());
    const nums = parts.map(Number);
    if (parts.length !== 2 || nums.some((n) => !Number.isInteger(n) || n < 1 || n > 15) || nums[0] === nums[1]) {
      throw new ChaosUsageError(`--redis-dbs takes two different database numbers from 1 to 15 (0 is the developer's), got "${dbs}"`);
    }
    redisDbs = [nums[0]!, nums[1]!];
  }

  const kills = int('kills', 20, 0, 10_000);
  const symbols = int('symbols', 4, 1, 50);
  const timeframe = str('timeframe') ?? '1m';
  const scenario = str('scenario') ?? 'mixed';
  let timeframeMs: number;
  try {
    timeframeMs = parseGenerateArgs(['--direct', '--count', '1', '--timeframe', timeframe, '--scenario', scenario], {}).timeframeMs as number;
  } catch (err) {
    if (err instanceof UsageError) throw new ChaosUsageError(err.message);
    throw err;
  }
  // More kills need a longer feed; the input grows with it (200 records a kill), as far as the 6-day span allows.
  const defaultRecords = Math.max(symbols * 30, Math.min(Math.max(4000, 200 * kills), Math.floor(MAX_INPUT_SPAN_MS / timeframeMs) * symbols));
  const records = int('records', defaultRecords, 1, 1_000_000);
  if (records < symbols * 30) throw new ChaosUsageError(`--records must be at least 30 per symbol (${symbols * 30} for ${symbols} symbols) for the indicators to warm up, got ${records}`);
  // The stages accept records up to 7 days older than their Kafka timestamp; both runs must fit, with room for the runs themselves.
  const spanMs = Math.ceil(records / symbols) * timeframeMs;
  if (spanMs > MAX_INPUT_SPAN_MS) {
    throw new ChaosUsageError(`--records ${records} over ${symbols} symbols at --timeframe ${timeframe} spans ${(spanMs / 86_400_000).toFixed(1)} days of simulated time; the pipeline accepts 7 days: use more --symbols or a shorter --timeframe`);
  }
  const windowMs = str('duration') !== undefined ? int('duration', 0, 10, 86_400) * 1000 : defaultWindowMs(kills, outages, durations);
  const maxRetries = str('max-retries') !== undefined ? int('max-retries', 0, 0, 10_000) : undefined;
  const maxRetryBackoffMs = str('max-retry-backoff-ms') !== undefined ? int('max-retry-backoff-ms', 0, 0, 3_600_000) : undefined;
  return {
    kills,
    seed: int('seed', 1, 0, Number.MAX_SAFE_INTEGER),
    records,
    symbols,
    timeframe,
    scenario,
    windowMs,
    outages,
    durations,
    drainTimeoutMs: int('drain-timeout', 300, 10, 86_400) * 1000,
    quietMs: int('quiet', 5, 1, 600) * 1000,
    ...(redisDbs ? { redisDbs } : {}),
    keep: values.keep === true,
    outDir: str('out') ?? 'artifacts',
    ...(maxRetries !== undefined ? { maxRetries } : {}),
    ...(maxRetryBackoffMs !== undefined ? { maxRetryBackoffMs } : {}),
    help: values.help === true,
  };
}
