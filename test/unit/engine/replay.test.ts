import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const FIX = 'test/fixtures/engine';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  lines: Array<Record<string, unknown>>;
}

function replay(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', 'cli/replay.ts', ...args], { cwd: ROOT, timeout: 110_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      done({ code, stdout, stderr, lines });
    });
  });
}

// Spawning tsx costs ~1 s each, so every run starts at once (awaited in beforeAll, which
// has a long timeout for a loaded machine) and the tests read the results.
const runs: Record<string, Promise<Run>> = {};
const RUNS = {
  ticks: ['--input', `${FIX}/replay-ticks.csv`, '--timeframe', 'tick', '--ma-period', '3', '--ema-period', '3', '--rsi-period', '3', '--quiet'],
  ticksNoCrossover: ['--input', `${FIX}/replay-ticks.csv`, '--timeframe', 'tick', '--ma-period', '3', '--ema-period', '3', '--rsi-period', '3', '--rules', `${FIX}/rules-no-crossover.json`],
  bars: ['--input', `${FIX}/replay-bars.csv`, '--ma-period', '2', '--ema-period', '2', '--rsi-period', '2', '--flush'],
  recency: ['--input', `${FIX}/replay-bars.csv`, '--now', '2024-05-09T00:00:00Z'],
  missing: ['--input', `${FIX}/does-not-exist.csv`],
  badHeader: ['--input', `${FIX}/replay-bad-header.csv`],
  badTimeframe: ['--input', `${FIX}/replay-ticks.csv`, '--timeframe', '2m'],
  badPeriod: ['--input', `${FIX}/replay-ticks.csv`, '--rsi-period', '0'],
  unknownOption: ['--input', `${FIX}/replay-ticks.csv`, '--speed', 'fast'],
  badRules: ['--input', `${FIX}/replay-ticks.csv`, '--rules', `${FIX}/rules-invalid.json`],
} as const;

beforeAll(async () => {
  for (const [name, args] of Object.entries(RUNS)) runs[name] = replay([...args]);
  await Promise.all(Object.values(runs));
}, 120_000);

const T = (iso: string) => Date.parse(iso);

describe('replay command', () => {
  it('tick mode: one JSON line per accepted row, in input order, with hand-computed indicators', async () => {
    const r = await runs.ticks!;
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => [l.symbol, l.timestamp, l.close])).toEqual([
      ['AAA', T('2024-05-01T13:00:00Z'), 1],
      ['BBB', T('2024-05-01T13:00:00Z'), 50],
      ['AAA', T('2024-05-01T13:00:01Z'), 2],
      ['AAA', T('2024-05-01T13:00:02Z'), 3],
      ['AAA', T('2024-05-01T13:00:03Z'), 2],
      ['AAA', T('2024-05-01T13:00:04Z'), 1],
      ['AAA', T('2024-05-01T13:00:05Z'), 2],
    ]);
    const aaa = r.lines.filter((l) => l.symbol === 'AAA');
    // closes 1,2,3,2,1,2 with periods 3: see the hand computation in indicators.test.ts
    expect(aaa.map((l) => l.ma)).toEqual([null, null, 2, 7 / 3, 2, 5 / 3]);
    expect(aaa.map((l) => l.ema)).toEqual([null, null, 2, 2, 1.5, 1.75]);
    const rsi = aaa.map((l) => l.rsi as number | null);
    expect(rsi.slice(0, 3)).toEqual([null, null, null]);
    [200 / 3, 400 / 9, 1700 / 27].forEach((want, i) => expect(rsi[i + 3]).toBeCloseTo(want, 10));
  });

  it('attaches signals to the row whose bar produced them (EMA crosses above MA at the last row)', async () => {
    const r = await runs.ticks!;
    const withSignals = r.lines.filter((l) => (l.signals as unknown[]).length > 0);
    expect(withSignals).toHaveLength(1);
    expect(withSignals[0]!.signals).toEqual([
      expect.objectContaining({ id: `AAA:ema-ma-crossover:${T('2024-05-01T13:00:05Z')}`, side: 'BUY', rule: 'ema-ma-crossover', price: 2, barTime: T('2024-05-01T13:00:05Z') }),
    ]);
    const off = await runs.ticksNoCrossover!;
    expect(off.code).toBe(0);
    expect(off.lines.flatMap((l) => l.signals as unknown[])).toEqual([]);
  });

  it('reports each bad row with its line number and goes on; the summary counts rows, symbols, rejects and signals', async () => {
    const r = await runs.ticks!;
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('line '));
    expect(errors).toEqual([
      'line 6: symbol "aaa" must be 1 to 12 characters of A-Z, 0-9, "." or "-" (symbols are uppercase)',
      'line 8: high (49) must be >= max(open, close) (50)',
      'line 11: open "abc" is not a number',
      'line 13: expected 7 fields (symbol,timestamp,open,high,low,close,volume), got 6',
    ]);
    expect(r.stderr).toMatch(/replay: 11 rows in/);
    expect(r.stderr).toMatch(/accepted 7, rejected 4, late 0; symbols 2; bars closed 7/);
    expect(r.stderr).toMatch(/signals 1: ema-ma-crossover BUY 1/);
  });

  it('bar mode: provisional values while a bar is open, late rows flagged, --flush closes the rest (CRLF input)', async () => {
    const r = await runs.bars!;
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([
      { symbol: 'XYZ', timestamp: T('2024-05-01T13:00:10Z'), close: 10, ma: null, ema: null, rsi: null, signals: [] },
      { symbol: 'XYZ', timestamp: T('2024-05-01T13:00:50Z'), close: 11, ma: null, ema: null, rsi: null, signals: [] },
      // bar 13:00 closed at 11; open bar 13:01 at 12: MA(2) = EMA(2) seed = (11 + 12) / 2
      { symbol: 'XYZ', timestamp: T('2024-05-01T13:01:05Z'), close: 12, ma: 11.5, ema: 11.5, rsi: null, signals: [] },
      // late for the closed 13:00 bar: committed values (one bar, so none yet), nothing changed
      { symbol: 'XYZ', timestamp: T('2024-05-01T13:00:30Z'), close: 99, ma: null, ema: null, rsi: null, signals: [], late: true },
      // bars 11, 12 closed; open 13: MA (12 + 13) / 2; EMA 11.5 + (13 - 11.5) * 2/3; RSI gains only = 100
      { symbol: 'XYZ', timestamp: T('2024-05-01T13:02:00Z'), close: 13, ma: 12.5, ema: 12.5, rsi: 100, signals: [] },
      { flush: true, symbol: 'XYZ', barTime: T('2024-05-01T13:02:00Z'), close: 13, ma: 12.5, ema: 12.5, rsi: 100, signals: [] },
    ]);
    expect(r.stderr).toMatch(/accepted 5, rejected 0, late 1; symbols 1; bars closed 3 \(1 by --flush\)/);
  });

  it('skips the wall-clock recency window unless --now is given', async () => {
    const r = await runs.recency!;
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([]);
    expect(r.stderr).toMatch(/line 2: timestamp 2024-05-01T13:00:10.000Z is more than 7 days before now \(2024-05-09T00:00:00.000Z\)/);
  });

  it('exits 1 when the input cannot be read or has no usable header', async () => {
    const missing = await runs.missing!;
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/replay: cannot read test\/fixtures\/engine\/does-not-exist.csv: .*ENOENT/);
    const header = await runs.badHeader!;
    expect(header.code).toBe(1);
    expect(header.stderr).toMatch(/line 1: header must name the columns symbol,timestamp,open,high,low,close,volume; missing volume/);
  });

  it('exits 2 on invalid options, saying which', async () => {
    const cases: Array<[keyof typeof RUNS, RegExp]> = [
      ['badTimeframe', /--timeframe must be one of tick, 1m, 5m, 15m, 1h, 1d, got "2m"/],
      ['badPeriod', /--rsi-period must be an integer from 1 to 1000, got 0/],
      ['unknownOption', /Unknown option '--speed'/],
      ['badRules', /--rules .*rules-invalid.json: invalid rules config: rules.rsi-threshold: oversold \(80\) must be below overbought \(70\)/],
    ];
    for (const [name, pattern] of cases) {
      const r = await runs[name]!;
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).toMatch(/usage: npm run replay/);
      expect(r.stdout).toBe('');
    }
  });
});
