/**
 * npm run generate -- [options]   (see --help, text in shared/generator/options.ts)
 *
 * Simulates a market (or replays a CSV) and feeds the ingest API, Kafka, or a
 * replay CSV file. Progress goes to stderr, the summary to stdout.
 * Exit codes: 0 done; 1 stopped by a delivery failure or unreadable replay
 * input; 2 bad options; 130 interrupted.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, TOPICS } from '../shared/config';
import { createProducer, loadKafkaConfig, produceRecords } from '../shared/adapters/kafka';
import { parseReplayCsv } from '../shared/generator/csv';
import { MarketGenerator, type PriceRecord } from '../shared/generator/generator';
import { parseGenerateArgs, USAGE, UsageError, type GenerateOptions } from '../shared/generator/options';
import { planSimulation, replaySchedule, type Schedule } from '../shared/generator/plan';
import { Progress } from '../shared/generator/progress';
import { formatSummary, runRecords, type RecordSource, type TypedMix } from '../shared/generator/runner';
import { CsvFileSink, HttpSink, JsonlFileSink, KafkaSink, type RecordSink, type TypedRecordSink } from '../shared/generator/sinks';
import { TypedRecordGenerator } from '../shared/generator/typed';
import { profileFor } from '../shared/generator/universe';

const MAX_LISTED_ERRORS = 20;

class InputError extends Error {}

interface Prepared {
  source: RecordSource;
  schedule: Schedule;
  total?: number;
  /** For typed records: the symbols and their current prices. */
  symbols: ReturnType<typeof profileFor>[];
  priceOf: (i: number) => number;
}

function prepareSimulation(opts: GenerateOptions, launchMs: number): Prepared {
  const plan = planSimulation(opts, launchMs);
  const generator = new MarketGenerator(plan.generator);
  return { source: generator, schedule: plan.schedule, total: plan.expectedTotal, symbols: opts.symbols, priceOf: (i) => generator.price(i) };
}

function prepareReplay(file: string, opts: GenerateOptions, launchMs: number): Prepared {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`--replay ${file} cannot be read: ${(err as Error).message}`);
  }
  const parsed = parseReplayCsv(text);
  if (parsed.errors.length > 0) {
    const listed = parsed.errors.slice(0, MAX_LISTED_ERRORS).map((e) => `  ${file}:${e.line}: ${e.errors.join('; ')}`);
    const more = parsed.errors.length > MAX_LISTED_ERRORS ? `\n  … and ${parsed.errors.length - MAX_LISTED_ERRORS} more` : '';
    throw new InputError(`--replay ${file} has ${parsed.errors.length} invalid row(s); fix them first:\n${listed.join('\n')}${more}`);
  }
  if (parsed.records.length === 0) throw new InputError(`--replay ${file} has no data rows`);
  // Pacing needs time order; a stable sort keeps same-time rows in file order.
  const records = parsed.records.map((r, i) => ({ r, i })).sort((a, b) => a.r.timestamp - b.r.timestamp || a.i - b.i).map((x) => x.r);
  const limited = opts.count !== undefined ? records.slice(0, opts.count) : records;
  const names = [...new Set(limited.map((r) => r.symbol))];
  const symbolIndex = new Map(names.map((s, i) => [s, i]));
  const lastClose = new Float64Array(names.length);
  let next = 0;
  return {
    source: {
      next(): PriceRecord | undefined {
        const r = limited[next++];
        if (r) lastClose[symbolIndex.get(r.symbol) as number] = r.close;
        return r;
      },
    },
    schedule: replaySchedule(limited, launchMs, opts.speed, opts.keepTimestamps),
    total: limited.length,
    symbols: names.map(profileFor),
    priceOf: (i) => lastClose[i] as number,
  };
}

function createSinks(opts: GenerateOptions): { sink: RecordSink; typedSink: TypedRecordSink | undefined; label: string } {
  const dest = opts.destination;
  if (dest.kind === 'file') {
    const typedSink = opts.typedShare > 0 ? new JsonlFileSink(dest.path.replace(/\.csv$/i, '.typed.jsonl')) : undefined;
    return { sink: new CsvFileSink(dest.path), typedSink, label: dest.path };
  }
  const http = new HttpSink({ target: opts.target, token: opts.token });
  if (dest.kind === 'http') return { sink: http, typedSink: opts.typedShare > 0 ? http : undefined, label: http.name };
  const producer = createProducer({ ...loadKafkaConfig(), brokers: opts.brokers });
  const sink = new KafkaSink({
    topic: TOPICS.ticks,
    produce: (messages) => produceRecords(producer, messages, opts.batchSize),
    close: () => producer.close(),
  });
  return { sink, typedSink: opts.typedShare > 0 ? http : undefined, label: `${sink.name} on ${opts.brokers.join(',')}` };
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let opts: GenerateOptions;
  let prepared: Prepared;
  const launchMs = Date.now();
  try {
    opts = parseGenerateArgs(argv);
    prepared = opts.replay !== undefined ? prepareReplay(opts.replay, opts, launchMs) : prepareSimulation(opts, launchMs);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`generate: ${err.message}\nRun "npm run generate -- --help" for the options.\n`);
      return 2;
    }
    if (err instanceof InputError) {
      process.stderr.write(`generate: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  let sinks: ReturnType<typeof createSinks>;
  try {
    sinks = createSinks(opts);
  } catch (err) {
    // Kafka settings (KAFKA_AUTH, KAFKA_SECRET_ARN…) and an unwritable --out path land here.
    if (!(err instanceof ConfigError) && !(err as NodeJS.ErrnoException).code) throw err;
    process.stderr.write(`generate: ${(err as Error).message}\n`);
    return err instanceof ConfigError ? 2 : 1;
  }
  const { sink, typedSink, label } = sinks;
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    // First Ctrl-C: finish the batch in flight and print the summary; second: leave now.
    if (++interrupts > 1) process.exit(130);
    process.stderr.write('\ngenerate: stopping after the batch in flight (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);

  const typed: TypedMix | undefined =
    typedSink && opts.typedShare > 0
      ? { share: opts.typedShare, generator: new TypedRecordGenerator(opts.seed, prepared.symbols), sink: typedSink, priceOf: prepared.priceOf }
      : undefined;
  const progress = new Progress({ stream: process.stderr, label: 'generate', total: prepared.total });
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        controller.signal.removeEventListener('abort', done);
        resolve();
      }
      controller.signal.addEventListener('abort', done, { once: true });
    });

  try {
    const summary = await runRecords(prepared.source, { batchSize: opts.batchSize, schedule: prepared.schedule }, { sink, typed, progress, now: Date.now, sleep, signal: controller.signal });
    process.stdout.write(formatSummary(summary, label));
    if (summary.stopped?.fatal) return 1;
    return summary.stopped ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    await sink.close();
    if (typedSink && (typedSink as object) !== (sink as object)) await typedSink.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
