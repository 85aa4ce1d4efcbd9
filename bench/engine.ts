/**
 * npm run bench:engine [-- --closes N] [--reps R] [--replay-rows N] [--no-replay]
 *
 * Streams the same closes through MA(20) + EMA(20) + RSI(14) with this
 * engine, trading-signals and technicalindicators in one process, interleaving
 * the runs so machine noise hits all of them alike; reports median updates/s
 * and ratios from the same run. Also: the full engine path (applyRecord),
 * serialized state bytes per symbol, and a replay of a generated CSV through
 * the CLI. Prints a table and writes artifacts/bench-engine.json.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as TI from 'technicalindicators';
import * as TS from 'trading-signals';
import { applyRecord, createSymbolState, serializeState, type EngineConfig } from '../shared/engine/engine';
import { createIndicatorState, DEFAULT_PERIODS, updateIndicators } from '../shared/engine/indicators';
import { createRuleState, DEFAULT_RULES, evaluateBar, serializeRuleState } from '../shared/engine/signals';
import { createProgress, formatCount } from '../shared/engine/progress';

const { values: args } = parseArgs({
  options: {
    closes: { type: 'string', default: '1000000' },
    reps: { type: 'string', default: '5' },
    'replay-rows': { type: 'string', default: '1000000' },
    'no-replay': { type: 'boolean', default: false },
  },
});
const N = Number(args.closes);
const REPS = Number(args.reps);
const REPLAY_ROWS = Number(args['replay-rows']);
if (!Number.isInteger(N) || N < 1000 || !Number.isInteger(REPS) || REPS < 1 || !Number.isInteger(REPLAY_ROWS) || REPLAY_ROWS < 1) {
  console.error('bench: --closes must be an integer >= 1000, --reps and --replay-rows integers >= 1');
  process.exit(2);
}
const ROOT = resolve(import.meta.dirname, '..');
const ARTIFACTS = resolve(ROOT, 'artifacts');

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Geometric random walk: full-precision doubles, like computed prices. */
function walk(n: number, seed: number, start = 100): Float64Array {
  const rnd = mulberry32(seed);
  const out = new Float64Array(n);
  let p = start;
  for (let i = 0; i < n; i++) {
    p *= Math.exp((rnd() - 0.5) * 0.004);
    out[i] = p;
  }
  return out;
}

const closes = walk(N, 2024);
const P = DEFAULT_PERIODS;
let sink = 0; // consumed results, so no implementation's work can be optimized away

type Impl = { name: string; run: (xs: Float64Array) => void };
const T0 = Date.parse('2024-05-01T13:30:00Z');
const tickCfg: EngineConfig = { timeframe: 'tick', periods: P };
const barCfg: EngineConfig = { timeframe: '1m', periods: P };

const impls: Impl[] = [
  {
    name: 'engine indicators (MA+EMA+RSI)',
    run(xs) {
      const s = createIndicatorState(P);
      let acc = 0;
      for (let i = 0; i < xs.length; i++) {
        const v = updateIndicators(s, xs[i]!);
        acc += (v.ma ?? 0) + (v.ema ?? 0) + (v.rsi ?? 0);
      }
      sink += acc;
    },
  },
  {
    name: 'trading-signals SMA+EMA+RSI',
    run(xs) {
      const sma = new TS.SMA(P.ma), ema = new TS.EMA(P.ema), rsi = new TS.RSI(P.rsi);
      let acc = 0;
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i]!;
        acc += (sma.update(x, false) ?? 0) + (ema.update(x, false) ?? 0) + (rsi.update(x, false) ?? 0);
      }
      sink += acc;
    },
  },
  {
    name: 'technicalindicators SMA+EMA+RSI',
    run(xs) {
      const sma = new TI.SMA({ period: P.ma, values: [] }), ema = new TI.EMA({ period: P.ema, values: [] }), rsi = new TI.RSI({ period: P.rsi, values: [] });
      let acc = 0;
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i]!;
        acc += (sma.nextValue(x) ?? 0) + (ema.nextValue(x) ?? 0) + (rsi.nextValue(x) ?? 0);
      }
      sink += acc;
    },
  },
  {
    name: 'engine applyRecord tick (+snapshot)',
    run(xs) {
      const s = createSymbolState('AAPL', tickCfg);
      let acc = 0;
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i]!;
        const r = applyRecord(s, { symbol: 'AAPL', timestamp: T0 + i * 10, open: x, high: x, low: x, close: x, volume: 100 }, tickCfg);
        acc += r.closed.length;
      }
      sink += acc;
    },
  },
  {
    name: 'engine applyRecord 1m + rules',
    run(xs) {
      const s = createSymbolState('AAPL', barCfg);
      const rs = createRuleState();
      let acc = 0;
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i]!;
        const r = applyRecord(s, { symbol: 'AAPL', timestamp: T0 + i * 1000, open: x, high: x, low: x, close: x, volume: 100 }, barCfg);
        for (const b of r.closed) acc += evaluateBar(rs, b, DEFAULT_RULES).length;
      }
      sink += acc;
    },
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function agreement() {
  // Sanity: technicalindicators uses the same SMA-seeded EMA (RSI rounded to 2 decimals), so it should agree.
  const xs = closes.subarray(0, 200_000);
  const s = createIndicatorState(P);
  const sma = new TI.SMA({ period: P.ma, values: [] }), ema = new TI.EMA({ period: P.ema, values: [] }), rsi = new TI.RSI({ period: P.rsi, values: [] });
  let ma = 0, em = 0, rs = 0;
  for (let i = 0; i < xs.length; i++) {
    const v = updateIndicators(s, xs[i]!);
    const a = sma.nextValue(xs[i]!), b = ema.nextValue(xs[i]!), c = rsi.nextValue(xs[i]!);
    if (v.ma !== null && a !== undefined) ma = Math.max(ma, Math.abs(v.ma - a) / a);
    if (v.ema !== null && b !== undefined) em = Math.max(em, Math.abs(v.ema - b) / b);
    if (v.rsi !== null && c !== undefined) rs = Math.max(rs, Math.abs(v.rsi - c));
  }
  return { closes: xs.length, maxRelDiffMa: ma, maxRelDiffEma: em, maxAbsDiffRsi: rs };
}

function stateBytes() {
  // Worst case for JSON size: full-precision prices, candle records, a long symbol, and an open bar.
  const sizes: number[] = [];
  let ruleBytes = 0, indBytes = 0;
  for (let k = 0; k < 100; k++) {
    const cfg: EngineConfig = { timeframe: '1m', periods: P };
    const symbol = `SYM${k}.LONGNAME`.slice(0, 12);
    const s = createSymbolState(symbol, cfg);
    const rs = createRuleState();
    const xs = walk(3000, 7 + k, 10 ** (k % 5));
    for (let i = 0; i < xs.length; i++) {
      const c = xs[i]!;
      const r = applyRecord(s, { symbol, timestamp: T0 + i * 7_001, open: c * 0.9995, high: c * 1.0012345, low: c / 1.0012345, close: c, volume: 1_234_567 + i }, cfg);
      for (const b of r.closed) evaluateBar(rs, b, DEFAULT_RULES);
    }
    sizes.push(Buffer.byteLength(serializeState(s)));
    ruleBytes = Math.max(ruleBytes, Buffer.byteLength(serializeRuleState(rs)));
    indBytes = Math.max(indBytes, Buffer.byteLength(JSON.stringify(s.ind)));
  }
  return { symbols: sizes.length, symbolStateMedian: median(sizes), symbolStateMax: Math.max(...sizes), indicatorStateMax: indBytes, ruleStateMax: ruleBytes };
}

async function writeReplayCsv(path: string, rows: number, symbols: number): Promise<void> {
  const out = createWriteStream(path);
  const rnd = mulberry32(99);
  const px = Array.from({ length: symbols }, (_, i) => 20 + i * 7.5);
  let buf = 'symbol,timestamp,open,high,low,close,volume\n';
  for (let i = 0; i < rows; i++) {
    const k = i % symbols;
    const o = px[k]!;
    const c = (px[k] = o * (1 + (rnd() - 0.5) * 0.002));
    const hi = Math.max(o, c) * (1 + rnd() * 0.0005), lo = Math.min(o, c) * (1 - rnd() * 0.0005);
    buf += `S${k},${T0 + i * 20},${o.toFixed(2)},${hi.toFixed(2)},${lo.toFixed(2)},${c.toFixed(2)},${1 + Math.floor(rnd() * 500)}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

interface ReplayTiming {
  timeframe: string;
  rows: number;
  /** Wall time of the whole child process, including Node + tsx startup. */
  seconds: number;
  rowsPerSec: number;
  /** CPU time the replay reported for itself (user + system); steadier than wall time on a shared machine. */
  cpuSeconds: number | null;
  summary: string;
}

async function timeReplay(csv: string, timeframe: string): Promise<ReplayTiming> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'cli/replay.ts'), '--input', csv, '--timeframe', timeframe, '--quiet'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const [code] = (await once(child, 'exit')) as [number | null];
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`replay exited ${code}: ${stderr.slice(-500)}`);
  const cpu = /cpu ([\d.]+) s/.exec(stderr);
  return { timeframe, rows: REPLAY_ROWS, seconds, rowsPerSec: REPLAY_ROWS / seconds, cpuSeconds: cpu ? Number(cpu[1]) : null, summary: stderr.trim().split('\n').slice(-3).join(' | ') };
}

async function main() {
  const steps = impls.length * (REPS + 1) + 2 + (args['no-replay'] ? 0 : 3);
  let done = 0;
  const progress = createProgress({ label: 'bench:engine', total: steps, unit: 'steps' });
  const step = (what: string) => { done++; progress.update(done, what); };

  for (const impl of impls) { impl.run(closes.subarray(0, 100_000)); step(`warm-up ${impl.name}`); }
  const seconds = new Map<string, number[]>(impls.map((i) => [i.name, []]));
  for (let r = 0; r < REPS; r++) {
    const order = r % 2 === 0 ? impls : [...impls].reverse();
    for (const impl of order) {
      const t = performance.now();
      impl.run(closes);
      seconds.get(impl.name)!.push((performance.now() - t) / 1000);
      step(`rep ${r + 1}/${REPS} ${impl.name}`);
    }
  }
  const agree = agreement(); step('agreement');
  const bytes = stateBytes(); step('state bytes');

  const replays = [];
  if (!args['no-replay']) {
    await mkdir(ARTIFACTS, { recursive: true });
    const csv = resolve(ARTIFACTS, 'bench-replay.csv');
    await writeReplayCsv(csv, REPLAY_ROWS, 50); step('replay csv');
    replays.push(await timeReplay(csv, '1m')); step('replay 1m');
    replays.push(await timeReplay(csv, 'tick')); step('replay tick');
  }
  progress.finish();

  const rows = impls.map((impl) => {
    const s = seconds.get(impl.name)!;
    return { name: impl.name, updates: N, medianSeconds: median(s), updatesPerSec: N / median(s), minSeconds: Math.min(...s), maxSeconds: Math.max(...s) };
  });
  const rate = (name: string) => rows.find((r) => r.name === name)!.updatesPerSec;
  const ours = rate('engine indicators (MA+EMA+RSI)');
  const ratios = { vsTradingSignals: ours / rate('trading-signals SMA+EMA+RSI'), vsTechnicalIndicators: ours / rate('technicalindicators SMA+EMA+RSI') };

  const pad = (s: string, n: number) => s.padEnd(n);
  const lpad = (s: string, n: number) => s.padStart(n);
  console.log(`\nMA(${P.ma}) + EMA(${P.ema}) + RSI(${P.rsi}) over ${formatCount(N)} closes, median of ${REPS} interleaved runs, node ${process.version}\n`);
  console.log(`${pad('implementation', 38)}${lpad('updates/s', 14)}${lpad('median s', 11)}${lpad('min s', 9)}${lpad('max s', 9)}${lpad('vs ours', 9)}`);
  for (const r of rows) {
    console.log(`${pad(r.name, 38)}${lpad(formatCount(r.updatesPerSec), 14)}${lpad(r.medianSeconds.toFixed(3), 11)}${lpad(r.minSeconds.toFixed(3), 9)}${lpad(r.maxSeconds.toFixed(3), 9)}${lpad(`${(r.updatesPerSec / ours).toFixed(2)}x`, 9)}`);
  }
  console.log(`\nengine vs trading-signals: ${ratios.vsTradingSignals.toFixed(1)}x (target >= 3x)   vs technicalindicators: ${ratios.vsTechnicalIndicators.toFixed(1)}x`);
  console.log(`agreement with technicalindicators over ${formatCount(agree.closes)} closes: MA rel ${agree.maxRelDiffMa.toExponential(1)}, EMA rel ${agree.maxRelDiffEma.toExponential(1)}, RSI abs ${agree.maxAbsDiffRsi.toFixed(4)} (it rounds RSI to 2 decimals)`);
  console.log(`state per symbol (JSON, default periods, ${bytes.symbols} symbols, full-precision prices, open bar): median ${bytes.symbolStateMedian} B, max ${bytes.symbolStateMax} B (target <= 1024); indicators alone max ${bytes.indicatorStateMax} B; rule state max ${bytes.ruleStateMax} B`);
  for (const r of replays) {
    console.log(`replay ${formatCount(r.rows)} rows, ${r.timeframe}: ${r.seconds.toFixed(2)} s wall incl. startup (${formatCount(r.rowsPerSec)} rows/s), cpu ${r.cpuSeconds?.toFixed(2) ?? '?'} s`);
  }
  console.log(`load average during the run: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cpus`);

  const report = {
    when: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    loadAverage: os.loadavg(),
    periods: P,
    closes: N,
    reps: REPS,
    throughput: rows,
    ratios,
    agreement: agree,
    stateBytes: bytes,
    replay: replays,
    checksum: sink,
  };
  await mkdir(ARTIFACTS, { recursive: true });
  const file = resolve(ARTIFACTS, 'bench-engine.json');
  await import('node:fs/promises').then((fs) => fs.writeFile(file, `${JSON.stringify(report, null, 2)}\n`));
  console.log(`\nsaved ${file}`);
}

await main();
