/**
 * Replays a CSV of price records through the same engine and rules as the
 * stream processor; also the way to backtest.
 *
 *   npm run replay -- --input FILE.csv [--timeframe tick|1m|5m|15m|1h|1d]
 *     [--ma-period N] [--ema-period N] [--rsi-period N] [--rules FILE.json]
 *     [--now ISO|EPOCH_MS] [--flush] [--quiet]
 *
 * stdout: JSON Lines, one object per accepted row, in input order:
 *   {symbol, timestamp, close, ma, ema, rsi, signals}
 *   - tick: the row's own closed period;
 *   - bars: the row's bar after applying the row (provisional while it is open);
 *   - a late row (its bar already closed) carries "late": true and the values
 *     of the last closed bar, which it did not change.
 *   Signals fire when a bar closes, so in bar modes they ride on the row whose
 *   arrival closed the bar. With --flush the bars still open at the end are
 *   closed and each adds one line {flush: true, symbol, barTime, close, ma, ema, rsi, signals}.
 * stderr: "line N: <reason>" for each rejected row, progress, and a summary.
 * Exit code: 0 when the file was read (even with rejected rows); 1 when the
 * input cannot be read or lacks the header; 2 for invalid options.
 *
 * Every validation rule applies except the wall-clock recency window, since a
 * backtest replays history; --now enforces it relative to the given instant.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { formatFieldErrors, parseIsoTimestamp, validatePriceRecord, type ValidateOptions } from '../shared/schema/records';
import { isTimeframe, TIMEFRAMES } from '../shared/engine/bars';
import { DEFAULT_PERIODS, validatePeriods, type IndicatorPeriods } from '../shared/engine/indicators';
import { applyRecord, createSymbolState, flushSymbol, type EngineConfig, type IndicatorBar, type SymbolState } from '../shared/engine/engine';
import { createRuleState, DEFAULT_RULES, evaluateBar, parseRulesConfig, RulesConfigError, type RulesConfig, type RuleState, type Signal } from '../shared/engine/signals';
import { createProgress, formatCount } from '../shared/engine/progress';

const USAGE = `usage: npm run replay -- --input FILE.csv [--timeframe ${TIMEFRAMES.join('|')}] [--ma-period N] [--ema-period N] [--rsi-period N] [--rules FILE.json] [--now ISO|EPOCH_MS] [--flush] [--quiet]`;
const COLUMNS = ['symbol', 'timestamp', 'open', 'high', 'low', 'close', 'volume'] as const;
const NUMBER_CELL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const EPOCH_CELL = /^\d+(\.\d+)?$/;
const OUT_CHUNK = 1 << 18;

class UsageError extends Error {}
class InputError extends Error {}

interface Options {
  input: string;
  engine: EngineConfig;
  rules: RulesConfig;
  validate: ValidateOptions;
  flush: boolean;
  quiet: boolean;
}

async function parseOptions(argv: string[]): Promise<Options | 'help'> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        input: { type: 'string', short: 'i' },
        timeframe: { type: 'string', default: '1m' },
        'ma-period': { type: 'string' },
        'ema-period': { type: 'string' },
        'rsi-period': { type: 'string' },
        rules: { type: 'string' },
        now: { type: 'string' },
        flush: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  if (!values.input) throw new UsageError('--input FILE.csv is required');
  if (!isTimeframe(values.timeframe)) throw new UsageError(`--timeframe must be one of ${TIMEFRAMES.join(', ')}, got "${values.timeframe}"`);

  const period = (flag: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag} must be a positive integer, got "${raw}"`);
    return Number(raw);
  };
  const periods: IndicatorPeriods = {
    ma: period('ma-period', values['ma-period'], DEFAULT_PERIODS.ma),
    ema: period('ema-period', values['ema-period'], DEFAULT_PERIODS.ema),
    rsi: period('rsi-period', values['rsi-period'], DEFAULT_PERIODS.rsi),
  };
  const periodProblems = validatePeriods(periods);
  if (periodProblems.length > 0) throw new UsageError(periodProblems.map((p) => `--${p.replace(' period', '-period')}`).join('; '));

  let rules = DEFAULT_RULES;
  if (values.rules !== undefined) {
    let text: string;
    try {
      text = await readFile(values.rules, 'utf8');
    } catch (err) {
      throw new UsageError(`--rules ${values.rules} cannot be read: ${(err as Error).message}`);
    }
    try {
      rules = parseRulesConfig(JSON.parse(text));
    } catch (err) {
      if (err instanceof RulesConfigError) throw new UsageError(`--rules ${values.rules}: ${err.message}`);
      throw new UsageError(`--rules ${values.rules} is not valid JSON: ${(err as Error).message}`);
    }
  }

  let validate: ValidateOptions = { recencyCheck: false };
  if (values.now !== undefined) {
    const raw = values.now;
    const parsed = EPOCH_CELL.test(raw) ? { ok: true as const, ms: Number(raw) } : parseIsoTimestamp(raw);
    if (!parsed.ok) throw new UsageError(`--now must be ISO-8601 or epoch ms, got "${raw}" (${parsed.message})`);
    validate = { recencyCheck: true, now: parsed.ms };
  }
  return { input: values.input, engine: { timeframe: values.timeframe, periods }, rules, validate, flush: values.flush, quiet: values.quiet };
}

/** String(n) renders finite numbers exactly as JSON.stringify does. */
function jsonNumber(x: number | null): string {
  return x === null ? 'null' : String(x);
}

/** Splits one CSV line; quotes are handled only when the line has any. */
function splitCsv(line: string): string[] | string {
  if (!line.includes('"')) return line.split(',');
  const cells: string[] = [];
  let cell = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cell += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { cells.push(cell); cell = ''; }
    else cell += ch;
  }
  if (quoted) return 'unterminated quoted field';
  cells.push(cell);
  return cells;
}

interface SymbolRun {
  engine: SymbolState;
  rules: RuleState;
}

interface Stats {
  rows: number;
  accepted: number;
  rejected: number;
  late: number;
  barsClosed: number;
  flushedBars: number;
  signals: Map<string, number>;
}

class Replayer {
  readonly stats: Stats = { rows: 0, accepted: 0, rejected: 0, late: 0, barsClosed: 0, flushedBars: 0, signals: new Map() };
  readonly symbols = new Map<string, SymbolRun>();
  private columnIndex: number[] = [];
  /** Fields a row needs so that every mapped column exists. */
  private width: number = COLUMNS.length;
  private out: string[] = [];
  private outSize = 0;
  private lineNo = 0;

  constructor(private readonly opts: Options) {}

  /** Maps columns by name, so any column order works; throws InputError when one is missing. */
  header(line: string): void {
    const cells = splitCsv(line.replace(/^\uFEFF/, '').replace(/\r$/, ''));
    if (typeof cells === 'string') throw new InputError(`line 1: header: ${cells}`);
    const names = cells.map((c) => c.trim().toLowerCase());
    const missing = COLUMNS.filter((c) => !names.includes(c));
    if (missing.length > 0) {
      throw new InputError(`line 1: header must name the columns ${COLUMNS.join(',')}; missing ${missing.join(', ')} (got "${line.slice(0, 120)}")`);
    }
    this.columnIndex = COLUMNS.map((c) => names.indexOf(c));
    this.width = Math.max(...this.columnIndex) + 1;
  }

  row(raw: string): void {
    this.lineNo++;
    if (this.lineNo === 1) return this.header(raw);
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    this.stats.rows++;
    const problem = this.tryRow(line);
    if (problem !== null) {
      this.stats.rejected++;
      process.stderr.write(`line ${this.lineNo}: ${problem}\n`);
    }
  }

  private tryRow(line: string): string | null {
    const cells = splitCsv(line);
    if (typeof cells === 'string') return cells;
    if (cells.length < this.width) return `expected ${this.width} fields (${COLUMNS.join(',')}), got ${cells.length}`;
    // Plain loops, no per-row closures: this runs a million times per replay.
    const idx = this.columnIndex;
    const nums: Array<number | undefined> = [undefined, undefined, undefined, undefined, undefined, undefined, undefined];
    let problems: string | null = null;
    for (let i = 2; i < COLUMNS.length; i++) {
      const text = cells[idx[i]!]!.trim();
      if (NUMBER_CELL.test(text) || text === 'NaN' || text === 'Infinity' || text === '-Infinity') {
        nums[i] = Number(text); // NaN / Infinity go on to the validator, which names them precisely
      } else {
        const problem = text === '' ? `${COLUMNS[i]} is empty` : `${COLUMNS[i]} "${text.slice(0, 40)}" is not a number`;
        problems = problems === null ? problem : `${problems}; ${problem}`;
      }
    }
    if (problems !== null) return problems;
    const tsText = cells[idx[1]!]!.trim();
    const candidate = {
      symbol: cells[idx[0]!]!.trim(),
      timestamp: EPOCH_CELL.test(tsText) ? Number(tsText) : tsText,
      open: nums[2], high: nums[3], low: nums[4], close: nums[5], volume: nums[6],
    };
    const checked = validatePriceRecord(candidate, this.opts.validate);
    if (!checked.ok) return formatFieldErrors(checked.errors);
    const record = checked.value;

    let run = this.symbols.get(record.symbol);
    if (run === undefined) {
      run = { engine: createSymbolState(record.symbol, this.opts.engine), rules: createRuleState() };
      this.symbols.set(record.symbol, run);
    }
    const result = applyRecord(run.engine, record, this.opts.engine);
    this.stats.accepted++;
    const signals = this.evaluate(run, result.closed);
    let values;
    if (result.late) {
      this.stats.late++;
      values = result.snapshot.indicators;
    } else if (this.opts.engine.timeframe === 'tick') {
      values = result.closed[0]!;
    } else {
      values = result.snapshot.openBar!.provisional;
    }
    // Hand-built JSON (same output as JSON.stringify of the object, key order included) to keep
    // the replay CPU-cheap.
    this.emit(
      `{"symbol":${JSON.stringify(record.symbol)},"timestamp":${record.timestamp},"close":${record.close},"ma":${jsonNumber(values.ma)},"ema":${jsonNumber(values.ema)},"rsi":${jsonNumber(values.rsi)},"signals":${signals.length === 0 ? '[]' : JSON.stringify(signals)}${result.late ? ',"late":true' : ''}}`,
    );
    return null;
  }

  private evaluate(run: SymbolRun, closed: IndicatorBar[]): Signal[] {
    if (closed.length === 0) return [];
    this.stats.barsClosed += closed.length;
    const signals: Signal[] = [];
    for (const bar of closed) {
      for (const s of evaluateBar(run.rules, bar, this.opts.rules)) {
        signals.push(s);
        const key = `${s.rule} ${s.side}`;
        this.stats.signals.set(key, (this.stats.signals.get(key) ?? 0) + 1);
      }
    }
    return signals;
  }

  flushAll(): void {
    for (const run of this.symbols.values()) {
      const bars = flushSymbol(run.engine, this.opts.engine);
      this.stats.flushedBars += bars.length;
      const signals = this.evaluate(run, bars);
      for (const bar of bars) {
        const mine = signals.filter((s) => s.barTime === bar.time);
        this.emit(JSON.stringify({ flush: true, symbol: bar.symbol, barTime: bar.time, close: bar.close, ma: bar.ma, ema: bar.ema, rsi: bar.rsi, signals: mine }));
      }
    }
  }

  linesRead(): number {
    return this.lineNo;
  }

  openBars(): number {
    let n = 0;
    for (const run of this.symbols.values()) if (run.engine.bar !== null) n++;
    return n;
  }

  private emit(json: string): void {
    this.out.push(json);
    this.outSize += json.length + 1;
  }

  pendingOutput(): number {
    return this.outSize;
  }

  async drainOutput(): Promise<void> {
    if (this.out.length === 0) return;
    const text = `${this.out.join('\n')}\n`;
    this.out = [];
    this.outSize = 0;
    if (!process.stdout.write(text)) await once(process.stdout, 'drain');
  }
}

async function replayFile(opts: Options): Promise<Replayer> {
  let size: number;
  try {
    const info = await stat(opts.input);
    if (!info.isFile()) throw new InputError(`${opts.input} is not a regular file`);
    size = info.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read ${opts.input}: ${(err as Error).message}`);
  }
  const replayer = new Replayer(opts);
  const progress = createProgress({ label: 'replay', total: size, unit: 'B', silent: opts.quiet });
  const started = performance.now();
  const stream = createReadStream(opts.input, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = rest + chunk;
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        replayer.row(text.slice(start, nl));
        start = nl + 1;
        if (replayer.pendingOutput() >= OUT_CHUNK) await replayer.drainOutput();
      }
      rest = text.slice(start);
      await replayer.drainOutput();
      const secs = (performance.now() - started) / 1000;
      progress.update(stream.bytesRead, `${formatCount(replayer.stats.rows)} rows, ${formatCount(replayer.stats.rows / Math.max(secs, 1e-9))} rows/s`);
    }
  } catch (err) {
    progress.finish();
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read ${opts.input}: ${(err as Error).message}`);
  }
  if (rest !== '') replayer.row(rest);
  if (replayer.linesRead() === 0) throw new InputError(`${opts.input} is empty; expected the header ${COLUMNS.join(',')}`);
  if (opts.flush) replayer.flushAll();
  await replayer.drainOutput();
  progress.finish();
  return replayer;
}

/** CPU time of this process so far; on a shared machine it says more than wall time. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function summary(r: Replayer, opts: Options, seconds: number): string {
  const s = r.stats;
  const signalTotal = [...s.signals.values()].reduce((a, b) => a + b, 0);
  const bySignal = [...s.signals.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', ');
  const open = r.openBars();
  return [
    `replay: ${formatCount(s.rows)} rows in ${seconds.toFixed(2)} s (${formatCount(s.rows / Math.max(seconds, 1e-9))} rows/s, cpu ${cpuSeconds().toFixed(2)} s), timeframe ${opts.engine.timeframe}, periods ma ${opts.engine.periods.ma} / ema ${opts.engine.periods.ema} / rsi ${opts.engine.periods.rsi}`,
    `replay: accepted ${formatCount(s.accepted)}, rejected ${formatCount(s.rejected)}, late ${formatCount(s.late)}; symbols ${r.symbols.size}; bars closed ${formatCount(s.barsClosed)}` +
      (opts.flush ? ` (${s.flushedBars} by --flush)` : open > 0 ? `; ${open} bars still open (--flush closes them)` : ''),
    `replay: signals ${signalTotal}${signalTotal > 0 ? `: ${bySignal}` : ''}`,
  ].join('\n');
}

async function main(): Promise<number> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // A closed pipe (e.g. `| head`) means nobody wants the rest.
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  let opts: Options | 'help';
  try {
    opts = await parseOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`replay: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = performance.now();
  try {
    const replayer = await replayFile(opts);
    process.stderr.write(`${summary(replayer, opts, (performance.now() - started) / 1000)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`replay: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main();
