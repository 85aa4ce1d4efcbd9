import { describe, expect, it } from '@jest/globals';
import { parseGenerateArgs, UsageError } from '../../../shared/generator/options';
import { DEFAULT_FILE_START_MS, planSimulation, replaySchedule } from '../../../shared/generator/plan';
import { DEFAULT_UNIVERSE } from '../../../shared/generator/universe';

const parse = (...argv: string[]) => parseGenerateArgs(argv, {});

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseGenerateArgs(argv, env);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('generate options', () => {
  it('has working defaults: 10 default symbols, mixed, seed 1, 10,000 records, 100/s to the local API', () => {
    const o = parse();
    expect(o.symbols.map((s) => s.symbol)).toEqual(DEFAULT_UNIVERSE.map((s) => s.symbol));
    expect(o).toMatchObject({ scenario: 'mixed', seed: 1, count: 10_000, rate: 100, target: 'http://localhost:3000', destination: { kind: 'http' }, batchSize: 500, typedShare: 0 });
  });

  it('reads the target from API_URL or PORT, and the token from API_TOKEN', () => {
    expect(parseGenerateArgs([], { PORT: '4000' }).target).toBe('http://localhost:4000');
    expect(parseGenerateArgs([], { API_URL: 'https://api.example.com', PORT: '4000' }).target).toBe('https://api.example.com');
    expect(parseGenerateArgs([], { API_TOKEN: 's3cret' }).token).toBe('s3cret');
    expect(parseGenerateArgs(['--token', 'flag'], { API_TOKEN: 's3cret' }).token).toBe('flag');
  });

  it('accepts --name value and --name=value, symbol lists and counts', () => {
    const o = parse('--symbols=AAPL,BRK.B,ACME', '--seed', '7', '--scenario', 'crash', '--timeframe', '5m', '--rate', 'max', '--out', 'x.csv');
    expect(o.symbols.map((s) => s.symbol)).toEqual(['AAPL', 'BRK.B', 'ACME']);
    expect(o).toMatchObject({ seed: 7, scenario: 'crash', timeframeMs: 300_000, rate: 'max', destination: { kind: 'file', path: 'x.csv' }, batchSize: 10_000 });
    expect(parse('--symbols', '12').symbols.map((s) => s.symbol).slice(9)).toEqual(['F', 'SYM011', 'SYM012']);
  });

  it.each([
    [['--count', 'abc'], '--count must be a positive integer, got "abc"'],
    [['--count', '0'], '--count must be a positive integer, got "0"'],
    [['--count', '5', '--duration', '10'], '--count and --duration cannot be used together'],
    [['--scenario', 'boom'], '--scenario must be one of calm, trending, volatile, crash, mean-revert, mixed, got "boom"'],
    [['--symbols', 'aapl'], '--symbols: "aapl" is not a symbol'],
    [['--symbols', 'AAPL,AAPL'], '--symbols: "AAPL" listed twice'],
    [['--symbols', '0'], '--symbols must be between 1 and 500, got 0'],
    [['--timeframe', '7m'], '--timeframe: unknown timeframe "7m"'],
    [['--rate', '0'], '--rate must be a positive number of records per second or "max", got "0"'],
    [['--rate', 'fast'], '--rate must be a positive number'],
    [['--seed', '-1'], '--seed must be a non-negative integer'],
    [['--seed', '1.5'], '--seed must be a non-negative integer'],
    [['--typed-share', '1'], '--typed-share must be a fraction in [0, 1), got "1"'],
    [['--out', 'x.csv', '--direct'], '--out and --direct cannot be used together'],
    [['--out', 'x.txt'], '--out must name a .csv file, got "x.txt"'],
    [['--batch', '5000'], '--batch must be at most 1000 for the API'],
    [['--start', 'yesterday'], '--start must be an ISO-8601 date'],
    [['--speed', '2'], '--speed only applies to --replay'],
    [['--replay', 'a.csv', '--scenario', 'calm'], '--replay and --scenario cannot be used together'],
    [['--target', 'localhost:3000'], '--target must be an http(s) URL'],
    [['--direct', '--brokers', 'kafka'], '--brokers must be host:port'],
    [['--clock', 'calendar'], '--clock calendar when sending live needs an explicit --start'],
    [['--frobnicate'], 'unknown option --frobnicate'],
    [['--count'], '--count needs a value'],
    [['--count', '5', '--count', '6'], '--count given more than once'],
    [['extra'], 'unexpected argument "extra"'],
    [['--direct=yes'], '--direct takes no value'],
  ])('%j is refused: %s', (argv, message) => {
    expect(usageError(argv as string[])).toContain(message);
  });

  it('refuses a bad PORT by name', () => {
    expect(usageError([], { PORT: 'abc' })).toContain('PORT');
  });
});

describe('timeline placement', () => {
  const launch = Date.UTC(2025, 5, 3, 13, 0);

  it('files start at --start, or at a fixed default that does not depend on the day', () => {
    expect(planSimulation(parse('--out', 'a.csv'), launch).generator.startMs).toBe(DEFAULT_FILE_START_MS);
    expect(planSimulation(parse('--out', 'a.csv'), launch + 86_400_000).generator.startMs).toBe(DEFAULT_FILE_START_MS);
    expect(new Date(DEFAULT_FILE_START_MS).toISOString()).toBe('2024-01-02T14:30:00.000Z');
    expect(planSimulation(parse('--out', 'a.csv', '--start', '2024-03-04T15:00:00Z'), launch).generator.startMs).toBe(Date.UTC(2024, 2, 4, 15));
    expect(planSimulation(parse('--out', 'a.csv'), launch).generator.clock).toBe('calendar');
  });

  it('paced trades start at launch and are sent at their own timestamps', () => {
    const plan = planSimulation(parse('--rate', '50'), launch);
    expect(plan.generator).toMatchObject({ startMs: launch, clock: 'continuous', tickRate: 50 });
    expect(plan.schedule({ symbol: 'A', timestamp: launch + 1234, open: 1, high: 1, low: 1, close: 1, volume: 1 }, 0)).toBe(launch + 1234);
  });

  it('a bar backfill at --rate max ends one bar before launch', () => {
    // 1,000 records over 10 symbols = 100 one-minute bars = 6,000,000 ms of simulated time.
    const plan = planSimulation(parse('--count', '1000', '--timeframe', '1m', '--rate', 'max'), launch);
    expect(plan.generator.startMs).toBe(launch - 6_000_000);
    expect(plan.expectedTotal).toBe(1000);
  });

  it('paced bars go out evenly and end by the time the last one is sent', () => {
    // 1,000 records at 10/s take 100 s to send and span 100 minutes of bars.
    const plan = planSimulation(parse('--count', '1000', '--timeframe', '1m', '--rate', '10'), launch);
    expect(plan.generator.startMs).toBe(launch + 100_000 - 6_000_000);
    expect(plan.schedule({ symbol: 'A', timestamp: 0, open: 1, high: 1, low: 1, close: 1, volume: 1 }, 250)).toBe(launch + 25_000);
  });

  it('refuses a live run whose data would be older than ingest accepts', () => {
    expect(() => planSimulation(parse('--count', '100000', '--timeframe', '1h', '--rate', 'max'), launch)).toThrow(
      /would span 416\.7 days, but the ingest API accepts timestamps from the last 7 days only/,
    );
  });

  it('replay at --speed 60: an hour of bars goes out in a minute, restamped to when each is sent', () => {
    const bar = (minute: number) => ({ symbol: 'A', timestamp: Date.UTC(2020, 0, 2, 15, minute), open: 1, high: 1, low: 1, close: 1, volume: 1 });
    const rows = [bar(0), bar(1), bar(30)];
    const schedule = replaySchedule(rows, launch, 60, false);
    expect(rows.map((r, i) => schedule(r, i))).toEqual([launch, launch + 1000, launch + 30_000]);
    expect(rows.map((r) => r.timestamp)).toEqual([launch, launch + 1000, launch + 30_000]);
    const kept = [bar(0), bar(1)];
    const keepSchedule = replaySchedule(kept, launch, 2, true);
    expect(kept.map((r, i) => keepSchedule(r, i))).toEqual([launch, launch + 30_000]);
    expect(kept.map((r) => r.timestamp)).toEqual([Date.UTC(2020, 0, 2, 15, 0), Date.UTC(2020, 0, 2, 15, 1)]);
  });
});
