/**
 * The input of both runs: one seeded generator run, computed once and produced to
 * each run's ticks topic exactly as `npm run generate -- --direct` would (key =
 * symbol, value = the record's JSON, through the idempotent producer). Both runs
 * therefore get byte-identical input, and the comparison is about the stages.
 *
 * The feed can be paused: around a broker restart it stops sending and waits for
 * the send in flight, because a send that fails mid-restart would be retried by the
 * caller with new producer sequence numbers and could land twice — a duplicate of
 * the generator's making, not the pipeline's. The stages' own producers do face the
 * restart.
 */
import { parseGenerateArgs } from '../generator/options';
import { planSimulation } from '../generator/plan';
import { MarketGenerator, type PriceRecord } from '../generator/generator';
import { createProducer, loadKafkaConfig, produceRecords, type KafkaProducer } from '../adapters/kafka';

export interface InputSpec {
  seed: number;
  records: number;
  symbols: number;
  timeframe: string;
  scenario: string;
  /** Start of simulated time; the same for both runs so their records are identical. */
  startMs: number;
}

export interface FeedMessage {
  key: string;
  value: string;
}

/** The generator's records for the spec, serialized as the direct sink sends them. */
export function generateInput(spec: InputSpec): FeedMessage[] {
  const argv = [
    '--direct', '--count', String(spec.records), '--symbols', String(spec.symbols), '--seed', String(spec.seed),
    '--timeframe', spec.timeframe, '--scenario', spec.scenario, '--start', new Date(spec.startMs).toISOString(), '--rate', 'max',
  ];
  const opts = parseGenerateArgs(argv, {});
  const plan = planSimulation(opts, Date.now());
  const generator = new MarketGenerator(plan.generator);
  const out: FeedMessage[] = [];
  for (let r: PriceRecord | undefined = generator.next(); r !== undefined; r = generator.next()) out.push({ key: r.symbol, value: JSON.stringify(r) });
  return out;
}

/** Simulated time the input spans: ingest and process accept records up to 7 days old. */
export function inputSpanMs(spec: Pick<InputSpec, 'records' | 'symbols' | 'timeframe'>): number {
  const opts = parseGenerateArgs(['--direct', '--count', String(spec.records), '--symbols', String(spec.symbols), '--timeframe', spec.timeframe], {});
  return Math.ceil(spec.records / spec.symbols) * (opts.timeframeMs as number);
}

export interface Feed {
  readonly sent: number;
  readonly total: number;
  readonly done: Promise<void>;
  pause(): Promise<void>;
  resume(): void;
  close(): Promise<void>;
}

/**
 * Sends the messages at `ratePerSecond` (undefined: as fast as the broker takes them),
 * in batches of at most `batch`. A failed send is retried after a pause; it is the
 * only way the feed itself could double a record, and the harness checks the input
 * afterwards.
 */
export function startFeed(opts: { topic: string; messages: readonly FeedMessage[]; ratePerSecond?: number; batch?: number; producer?: KafkaProducer; env?: NodeJS.ProcessEnv; onError?: (err: Error) => void }): Feed {
  const producer = opts.producer ?? createProducer(loadKafkaConfig(opts.env ?? process.env));
  const batch = opts.batch ?? 200;
  let sent = 0;
  let paused = false;
  let inFlight: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let closed = false;
  const startedAt = Date.now();
  let pausedMs = 0;
  let pausedAt = 0;

  const sleep = (ms: number) => new Promise<void>((r) => {
    const t = setTimeout(() => { wake = undefined; r(); }, ms);
    wake = () => { clearTimeout(t); wake = undefined; r(); };
  });

  const done = (async () => {
    while (sent < opts.messages.length && !closed) {
      if (paused) {
        await sleep(1000);
        continue;
      }
      const elapsed = Date.now() - startedAt - pausedMs;
      const due = opts.ratePerSecond === undefined ? opts.messages.length : Math.min(opts.messages.length, Math.floor((elapsed / 1000) * opts.ratePerSecond));
      if (due <= sent) {
        await sleep(Math.max(5, Math.min(100, ((sent + 1) / (opts.ratePerSecond ?? 1)) * 1000 - elapsed)));
        continue;
      }
      const chunk = opts.messages.slice(sent, Math.min(due, sent + batch)).map((m) => ({ topic: opts.topic, key: m.key, value: m.value }));
      inFlight = produceRecords(producer, chunk, batch);
      try {
        await inFlight;
        sent += chunk.length;
      } catch (err) {
        opts.onError?.(err as Error);
        await sleep(1000);
      } finally {
        inFlight = undefined;
      }
    }
  })();

  return {
    get sent() {
      return sent;
    },
    total: opts.messages.length,
    done,
    async pause() {
      if (!paused) {
        paused = true;
        pausedAt = Date.now();
      }
      await inFlight?.catch(() => undefined);
    },
    resume() {
      if (!paused) return;
      paused = false;
      pausedMs += Date.now() - pausedAt;
      wake?.();
    },
    async close() {
      closed = true;
      wake?.();
      await done.catch(() => undefined);
      if (!opts.producer) await producer.close().catch(() => undefined);
    },
  };
}
