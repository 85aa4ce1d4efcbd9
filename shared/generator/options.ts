/**
 * Command-line options of `npm run generate`, parsed and checked up front so
 * every mistake is reported by name before anything is generated or sent.
 */
import { getNumberFromEnv, getStringFromEnv } from '../config';
import { type ClockKind, parseTimeframe, TIMEFRAMES } from './clock';
import { isScenarioName, SCENARIO_NAMES, SCENARIOS, type ScenarioName } from './scenarios';
import { DEFAULT_UNIVERSE, MAX_SYMBOLS, profileFor, SYMBOL_PATTERN, type SymbolProfile, universeOfSize } from './universe';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Destination = { kind: 'http' } | { kind: 'kafka' } | { kind: 'file'; path: string };

export interface GenerateOptions {
  help: boolean;
  symbols: SymbolProfile[];
  seed: number;
  scenario: ScenarioName;
  /** Records to produce (price records; typed records come on top). */
  count?: number;
  /** Simulated trading seconds to cover. */
  durationSeconds?: number;
  /** Records per second, or as fast as the destination accepts. */
  rate: number | 'max';
  timeframe?: string;
  timeframeMs?: number;
  destination: Destination;
  target: string;
  token?: string;
  brokers: string[];
  typedShare: number;
  replay?: string;
  speed: number;
  /** Replay: keep the file's timestamps instead of restamping them to the moment they are sent. */
  keepTimestamps: boolean;
  /** Explicit start of simulated time (epoch ms). */
  startMs?: number;
  clock?: ClockKind;
  /** Records per request / write. */
  batchSize: number;
}

export const DEFAULT_COUNT = 10_000;
export const DEFAULT_RATE = 100;
export const MAX_HTTP_BATCH = 1000;

export const USAGE = `Usage: npm run generate -- [options]

Simulated market data (or a replayed CSV) into the live pipeline, or into a replay CSV file.

What to simulate
  --symbols N|A,B,...   N symbols of the default universe (${DEFAULT_UNIVERSE.map((p) => p.symbol).join(', ')},
                        then SYM011…), or an explicit list (default 10)
  --scenario NAME       ${SCENARIO_NAMES.join(' | ')} (default mixed)
${SCENARIO_NAMES.map((n) => `                          ${n.padEnd(12)} ${SCENARIOS[n].description}`).join('\n')}
  --seed N              non-negative integer; same options + seed = byte-identical output (default 1)
  --timeframe TF        emit bars of TF, one bar per symbol per step; simulated time advances a bar
                        per step. TF: ${TIMEFRAMES.join(', ')}.
                        Without it, records are single trades arriving as a Poisson process.

How much and how fast
  --count N             number of price records (default ${DEFAULT_COUNT})
  --duration SECONDS    simulated trading time to cover instead of a count
  --rate N|max          records per second (default ${DEFAULT_RATE}). For trades it is the mean arrival rate
                        (the intraday U-curve makes it ~2x at the open, ~0.5x at midday); with --out it
                        only shapes simulated time. max: as fast as the target accepts.
  --start ISO           start of simulated time. Default with --out: ${new Date(Date.UTC(2024, 0, 2, 14, 30)).toISOString()}
                        (fixed, so files are reproducible). Default when sending: placed so the data ends
                        by the time it is sent, because ingest accepts only the last 7 days.
  --clock calendar|continuous
                        calendar: weekday sessions 14:30-21:00 UTC (default with --out);
                        continuous: sessions back to back, no gaps (default when sending)

Where to
  --target URL          ingest API base URL; records go to POST URL/ticks in batches
                        (default $API_URL, else http://localhost:$PORT, PORT defaulting to 3000)
  --token TOKEN         bearer token for the API (default $API_TOKEN)
  --direct              produce to Kafka topic market.ticks instead of the API (typed records
                        still go to --target, since only the API knows their format)
  --brokers H:P,...     Kafka bootstrap brokers for --direct (default $KAFKA_BROKERS, else localhost:9092)
  --out FILE.csv        write the replay CSV (symbol,timestamp,open,high,low,close,volume) instead
  --batch N             records per request or write (default 500 for the API, 1000 for Kafka, 10000 for files)
  --typed-share F       also emit the seed's typed records (order_book, news_sentiment, market_data,
                        economic_indicator) as fraction F (0 <= F < 1) of the output, via POST /ingest
                        (with --out: to FILE.typed.jsonl)

Replay
  --replay FILE.csv     send the bars of a CSV file instead of simulating
  --speed X             replay at X times real time (default 1); timestamps are restamped to the
                        moment each record is sent, unless --keep-timestamps

  --help                this text
`;

const FLAGS = new Set([
  'symbols', 'seed', 'scenario', 'count', 'duration', 'rate', 'timeframe', 'target', 'token', 'direct', 'brokers', 'out',
  'typed-share', 'replay', 'speed', 'keep-timestamps', 'start', 'clock', 'batch', 'help',
]);
const BOOLEAN_FLAGS = new Set(['direct', 'keep-timestamps', 'help']);

type Env = Record<string, string | undefined>;

export function parseGenerateArgs(argv: readonly string[], env: Env = process.env): GenerateOptions {
  const raw = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h') {
      raw.set('help', 'true');
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}" (options start with --)`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!FLAGS.has(name)) throw new UsageError(`unknown option --${name}`);
    if (raw.has(name)) throw new UsageError(`--${name} given more than once`);
    if (BOOLEAN_FLAGS.has(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      raw.set(name, 'true');
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      i++;
    }
    raw.set(name, value);
  }

  const help = raw.has('help');
  const has = (n: string) => raw.has(n);
  const get = (n: string) => raw.get(n) as string;

  const exclusive = (a: string, b: string) => {
    if (has(a) && has(b)) throw new UsageError(`--${a} and --${b} cannot be used together`);
  };
  exclusive('count', 'duration');
  exclusive('out', 'direct');
  exclusive('out', 'target');
  exclusive('replay', 'out');
  for (const simOnly of ['scenario', 'seed', 'symbols', 'timeframe', 'rate', 'start', 'clock', 'duration']) exclusive('replay', simOnly);
  if (has('speed') && !has('replay')) throw new UsageError('--speed only applies to --replay');
  if (has('keep-timestamps') && !has('replay')) throw new UsageError('--keep-timestamps only applies to --replay');
  if (has('brokers') && !has('direct')) throw new UsageError('--brokers only applies to --direct');

  const destination: Destination = has('out') ? { kind: 'file', path: nonEmpty('out', get('out')) } : has('direct') ? { kind: 'kafka' } : { kind: 'http' };
  if (destination.kind === 'file' && !/\.csv$/i.test(destination.path)) throw new UsageError(`--out must name a .csv file, got "${destination.path}"`);

  const scenarioName = has('scenario') ? get('scenario') : 'mixed';
  if (!isScenarioName(scenarioName)) throw new UsageError(`--scenario must be one of ${SCENARIO_NAMES.join(', ')}, got "${scenarioName}"`);

  const timeframe = has('timeframe') ? get('timeframe') : undefined;
  let timeframeMs: number | undefined;
  if (timeframe !== undefined) {
    try {
      timeframeMs = parseTimeframe(timeframe);
    } catch (err) {
      throw new UsageError(`--timeframe: ${(err as Error).message}`);
    }
  }

  let rate: number | 'max' = DEFAULT_RATE;
  if (has('rate')) {
    const r = get('rate');
    rate = r === 'max' ? 'max' : positiveNumber('rate', r, 'a positive number of records per second or "max"');
  }

  const clockText = has('clock') ? get('clock') : undefined;
  if (clockText !== undefined && clockText !== 'calendar' && clockText !== 'continuous') {
    throw new UsageError(`--clock must be calendar or continuous, got "${clockText}"`);
  }

  let startMs: number | undefined;
  if (has('start')) {
    const text = get('start');
    startMs = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
    if (!Number.isFinite(startMs)) throw new UsageError(`--start must be an ISO-8601 date such as 2024-01-02T14:30:00Z, got "${text}"`);
  }
  if (destination.kind !== 'file' && clockText === 'calendar' && startMs === undefined) {
    throw new UsageError('--clock calendar when sending live needs an explicit --start (calendar gaps cannot be placed to end "now")');
  }

  const typedShare = has('typed-share') ? Number(get('typed-share')) : 0;
  if (!(Number.isFinite(typedShare) && typedShare >= 0 && typedShare < 1)) {
    throw new UsageError(`--typed-share must be a fraction in [0, 1), got "${get('typed-share')}"`);
  }

  const defaultBatch = destination.kind === 'file' ? 10_000 : destination.kind === 'kafka' ? 1000 : 500;
  const batchSize = has('batch') ? positiveInteger('batch', get('batch')) : defaultBatch;
  if (destination.kind === 'http' && batchSize > MAX_HTTP_BATCH) throw new UsageError(`--batch must be at most ${MAX_HTTP_BATCH} for the API (its limit per request), got ${batchSize}`);

  const defaultPort = safeEnvNumber('PORT', env, 3000);
  const target = has('target') ? get('target') : getStringFromEnv('API_URL', { env, default: `http://localhost:${defaultPort}` });
  try {
    const u = new URL(target);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new UsageError(`--target must be an http(s) URL such as http://localhost:3000, got "${target}"`);
  }
  const token = has('token') ? nonEmpty('token', get('token')) : env.API_TOKEN || undefined;
  const brokersText = has('brokers') ? get('brokers') : getStringFromEnv('KAFKA_BROKERS', { env, default: 'localhost:9092' });
  const brokers = brokersText.split(',').map((b) => b.trim()).filter(Boolean);
  for (const b of brokers) if (!/^[^:\s]+:\d{1,5}$/.test(b)) throw new UsageError(`--brokers must be host:port[,host:port…], got "${b}"`);

  return {
    help,
    symbols: has('symbols') ? parseSymbols(get('symbols')) : universeOfSize(DEFAULT_UNIVERSE.length),
    seed: has('seed') ? seedOf(get('seed')) : 1,
    scenario: scenarioName,
    count: has('count') ? positiveInteger('count', get('count')) : has('duration') ? undefined : has('replay') ? undefined : DEFAULT_COUNT,
    durationSeconds: has('duration') ? positiveNumber('duration', get('duration'), 'a positive number of seconds') : undefined,
    rate,
    timeframe,
    timeframeMs,
    destination,
    target,
    token,
    brokers,
    typedShare,
    replay: has('replay') ? nonEmpty('replay', get('replay')) : undefined,
    speed: has('speed') ? positiveNumber('speed', get('speed'), 'a positive multiple of real time') : 1,
    keepTimestamps: has('keep-timestamps'),
    startMs,
    clock: clockText as ClockKind | undefined,
    batchSize,
  };
}

function parseSymbols(text: string): SymbolProfile[] {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > MAX_SYMBOLS) throw new UsageError(`--symbols must be between 1 and ${MAX_SYMBOLS}, got ${n}`);
    return universeOfSize(n);
  }
  const names = text.split(',').map((s) => s.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (!SYMBOL_PATTERN.test(name)) throw new UsageError(`--symbols: "${name}" is not a symbol (1-12 of A-Z, 0-9, '.', '-')`);
    if (seen.has(name)) throw new UsageError(`--symbols: "${name}" listed twice`);
    seen.add(name);
  }
  if (names.length > MAX_SYMBOLS) throw new UsageError(`--symbols: at most ${MAX_SYMBOLS} symbols, got ${names.length}`);
  return names.map(profileFor);
}

function seedOf(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`--seed must be a non-negative integer up to ${Number.MAX_SAFE_INTEGER}, got "${text}"`);
  return n;
}

function positiveInteger(name: string, text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${text}"`);
  return n;
}

function positiveNumber(name: string, text: string, what: string): number {
  const n = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be ${what}, got "${text}"`);
  return n;
}

function nonEmpty(name: string, text: string): string {
  if (text.trim() === '') throw new UsageError(`--${name} needs a non-empty value`);
  return text;
}

function safeEnvNumber(name: string, env: Env, fallback: number): number {
  try {
    return getNumberFromEnv(name, { env, default: fallback, integer: true, min: 1, max: 65535 });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
