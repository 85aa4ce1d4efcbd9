/**
 * npm run bench:generate [-- --records N --repeats K]
 *
 * How fast the generator writes replay CSV (`--out`), against the issue's bar
 * of 200,000 records/s. Three layers are timed in the same run, so their
 * ratios show where time goes:
 *   model    records drawn from MarketGenerator and dropped
 *   out      the --out path in-process: runRecords → CsvFileSink (what the CLI runs)
 *   cli      `npm run generate -- --out …` as a child process, wall clock including startup
 * Medians of K repeats; table on stdout, JSON in artifacts/bench-generate.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MarketGenerator, type GeneratorOptions } from '../shared/generator/generator';
import { DEFAULT_FILE_START_MS } from '../shared/generator/plan';
import { runRecords } from '../shared/generator/runner';
import { CsvFileSink, JsonlFileSink } from '../shared/generator/sinks';
import { TypedRecordGenerator } from '../shared/generator/typed';
import { universeOfSize } from '../shared/generator/universe';

const TARGET_PER_SECOND = 200_000;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`bench:generate: --${name} must be a positive integer\n`);
    process.exit(2);
  }
  return n;
}

const records = arg('records', 1_000_000);
const repeats = arg('repeats', 5);
const symbols = universeOfSize(10);
const dir = mkdtempSync(join(tmpdir(), 'bench-generate-'));

interface Case {
  name: string;
  layer: 'model' | 'out' | 'cli';
  mode: 'bars 1m' | 'trades';
  typedShare: number;
  run: () => Promise<void> | void;
}

function options(mode: Case['mode']): GeneratorOptions {
  return {
    seed: 1, scenario: 'mixed', symbols, tickRate: 100, startMs: DEFAULT_FILE_START_MS, clock: 'calendar', count: records,
    timeframeMs: mode === 'bars 1m' ? 60_000 : undefined,
  };
}

function modelCase(mode: Case['mode']): Case {
  return {
    name: `model, ${mode}`, layer: 'model', mode, typedShare: 0,
    run() {
      const g = new MarketGenerator(options(mode));
      let n = 0;
      while (g.next() !== undefined) n++;
      if (n !== records) throw new Error(`expected ${records} records, got ${n}`);
    },
  };
}

function outCase(mode: Case['mode'], typedShare: number): Case {
  return {
    name: `out, ${mode}${typedShare ? `, typed ${typedShare}` : ''}`, layer: 'out', mode, typedShare,
    async run() {
      const path = join(dir, 'out.csv');
      const g = new MarketGenerator(options(mode));
      const sink = new CsvFileSink(path);
      const typedSink = typedShare > 0 ? new JsonlFileSink(join(dir, 'out.typed.jsonl')) : undefined;
      const summary = await runRecords(g, { batchSize: 10_000, schedule: () => undefined }, {
        sink,
        typed: typedSink ? { share: typedShare, generator: new TypedRecordGenerator(1, symbols), sink: typedSink, priceOf: (i) => g.price(i) } : undefined,
        now: Date.now,
        sleep: async () => {},
      });
      await sink.close();
      await typedSink?.close();
      if (summary.accepted !== records) throw new Error(`expected ${records} written, got ${summary.accepted}`);
    },
  };
}

function cliCase(mode: Case['mode']): Case {
  return {
    name: `cli, ${mode}`, layer: 'cli', mode, typedShare: 0,
    run() {
      const path = join(dir, 'cli.csv');
      const args = ['scripts/dev.sh', 'run', 'cli/generate.ts', '--out', path, '--count', String(records)];
      if (mode === 'bars 1m') args.push('--timeframe', '1m');
      const res = spawnSync('bash', args, { encoding: 'utf8' });
      if (res.status !== 0) throw new Error(`generate exited ${res.status}: ${res.stderr}`);
      // Every CSV line is well over 20 bytes; a short file means the CLI stopped early.
      if (statSync(path).size < records * 20) throw new Error(`cli wrote only ${statSync(path).size} bytes`);
    },
  };
}

const cases: Case[] = [
  modelCase('bars 1m'),
  modelCase('trades'),
  outCase('bars 1m', 0),
  outCase('trades', 0),
  outCase('bars 1m', 0.1),
  cliCase('bars 1m'),
  cliCase('trades'),
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const results: Array<{ name: string; layer: string; mode: string; typedShare: number; medianMs: number; runsMs: number[]; recordsPerSecond: number }> = [];
const totalRuns = cases.length * repeats;
let done = 0;
const started = performance.now();
process.stderr.write(`bench:generate: ${records.toLocaleString('en-US')} records x ${repeats} repeats x ${cases.length} cases on ${cpus().length} CPU(s), node ${process.version}\n`);
try {
  // One untimed warm-up per in-process case so JIT compilation is not measured.
  for (const c of cases) if (c.layer !== 'cli') await c.run();
  // Repeats interleave the cases so machine noise spreads over all of them alike.
  const runs = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < repeats; r++) {
    for (const c of cases) {
      const t0 = performance.now();
      await c.run();
      (runs.get(c.name) as number[]).push(performance.now() - t0);
      done++;
      const elapsed = (performance.now() - started) / 1000;
      const eta = (elapsed / done) * (totalRuns - done);
      process.stderr.write(`  [${done}/${totalRuns}] ${c.name}: ${((performance.now() - t0) / 1000).toFixed(2)} s (eta ${eta.toFixed(0)} s)\n`);
    }
  }
  for (const c of cases) {
    const runsMs = runs.get(c.name) as number[];
    const medianMs = median(runsMs);
    results.push({ name: c.name, layer: c.layer, mode: c.mode, typedShare: c.typedShare, medianMs, runsMs, recordsPerSecond: (records * 1000) / medianMs });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const modelRate = (mode: string) => results.find((r) => r.layer === 'model' && r.mode === mode)?.recordsPerSecond ?? NaN;
const rows = results.map((r) => ({
  case: r.name,
  'median s': (r.medianMs / 1000).toFixed(3),
  'records/s': Math.round(r.recordsPerSecond).toLocaleString('en-US'),
  'x target': (r.recordsPerSecond / TARGET_PER_SECOND).toFixed(2),
  'x model': (r.recordsPerSecond / modelRate(r.mode)).toFixed(2),
}));
console.log(`\nGenerator throughput: ${records.toLocaleString('en-US')} records, 10 symbols, scenario mixed, median of ${repeats}; target ${TARGET_PER_SECOND.toLocaleString('en-US')} records/s`);
console.table(rows);
const outCases = results.filter((r) => r.layer !== 'model');
const worst = outCases.reduce((a, b) => (a.recordsPerSecond < b.recordsPerSecond ? a : b));
console.log(`slowest --out path: ${worst.name} at ${Math.round(worst.recordsPerSecond).toLocaleString('en-US')} records/s (${worst.recordsPerSecond >= TARGET_PER_SECOND ? 'meets' : 'MISSES'} the 200k target)`);

mkdirSync('artifacts', { recursive: true });
writeFileSync(
  'artifacts/bench-generate.json',
  `${JSON.stringify({ bench: 'generate', at: new Date().toISOString(), node: process.version, cpus: cpus().length, records, repeats, targetPerSecond: TARGET_PER_SECOND, results }, null, 2)}\n`,
);
console.log('saved artifacts/bench-generate.json');
