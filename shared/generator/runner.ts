/**
 * Moves records from a source to a sink: paces them by the schedule, batches
 * them, mixes in typed records, keeps the delivery accounts and reports
 * progress. Everything outside (clock, sleep, sinks, output stream) is passed
 * in, so the same loop drives files, HTTP and Kafka.
 */
import type { PriceRecord } from './generator';
import type { Schedule } from './plan';
import type { Progress } from './progress';
import { DeliveryError, FatalSinkError, type RecordSink, type SendResult, type TypedRecordSink } from './sinks';
import { type TypedRecord, type TypedRecordGenerator, TypedShareMeter } from './typed';

export interface RecordSource {
  next(): PriceRecord | undefined;
}

export interface TypedMix {
  share: number;
  generator: TypedRecordGenerator;
  sink: TypedRecordSink;
  /** Current price of symbol i, for typed records that quote a price. */
  priceOf: (i: number) => number;
}

export interface RunDeps {
  sink: RecordSink;
  typed?: TypedMix;
  progress?: Progress;
  /** Wall clock in epoch ms (schedules are in epoch ms). */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

export interface RunConfig {
  batchSize: number;
  schedule: Schedule;
  /** A batch is sent once its oldest record has waited this long, so paced runs stay live. */
  lingerMs?: number;
}

export interface DeliveryTally {
  sent: number;
  accepted: number;
  rejected: number;
  retries: number;
}

export interface RunSummary extends DeliveryTally {
  typed: DeliveryTally;
  elapsedMs: number;
  /** Price records per second over the whole run. */
  ratePerSecond: number;
  /** Up to 10 examples of why records were rejected. */
  rejectionSamples: string[];
  /** Set when the run ended before the source was exhausted. */
  stopped?: { reason: string; fatal: boolean };
}

const MAX_SAMPLES = 10;
/** Sleeping for less than this costs more in timer overhead than it saves. */
const MIN_SLEEP_MS = 4;

export async function runRecords(source: RecordSource, config: RunConfig, deps: RunDeps): Promise<RunSummary> {
  const started = deps.now();
  const summary: RunSummary = {
    sent: 0, accepted: 0, rejected: 0, retries: 0,
    typed: { sent: 0, accepted: 0, rejected: 0, retries: 0 },
    elapsedMs: 0, ratePerSecond: 0, rejectionSamples: [],
  };
  const linger = config.lingerMs ?? 100;
  const meter = deps.typed && deps.typed.share > 0 ? new TypedShareMeter(deps.typed.share) : undefined;
  let batch: PriceRecord[] = [];
  let typedBatch: TypedRecord[] = [];
  let batchOpenedAt = 0;

  const sample = (what: string, record: PriceRecord | TypedRecord | undefined, errors: string[]) => {
    if (summary.rejectionSamples.length < MAX_SAMPLES) summary.rejectionSamples.push(`${what} ${JSON.stringify(record)}: ${errors.join('; ')}`);
  };

  const account = (tally: DeliveryTally, result: SendResult, records: readonly (PriceRecord | TypedRecord)[], what: string) => {
    tally.sent += records.length;
    tally.accepted += result.accepted;
    tally.rejected += result.rejected.length;
    tally.retries += result.retries;
    for (const r of result.rejected) sample(what, records[r.index], r.errors);
  };

  /** Sends both pending batches; false when the run has to stop. */
  const flush = async (): Promise<boolean> => {
    const records = batch;
    const typedRecords = typedBatch;
    batch = [];
    typedBatch = [];
    let pricesDone = false;
    try {
      if (records.length > 0) account(summary, await deps.sink.send(records), records, 'record');
      pricesDone = true;
      if (typedRecords.length > 0 && deps.typed) account(summary.typed, await deps.typed.sink.sendTyped(typedRecords), typedRecords, 'typed record');
    } catch (err) {
      if (!(err instanceof DeliveryError || err instanceof FatalSinkError)) throw err;
      // What was in flight was not delivered: it counts as rejected, with the reason, and the run stops.
      const retries = err instanceof DeliveryError ? err.retries : 0;
      if (!pricesDone) {
        summary.sent += records.length;
        summary.accepted += err.acceptedBefore;
        summary.rejected += records.length - err.acceptedBefore;
        summary.retries += retries;
        sample(`batch of ${records.length} record(s) from`, records[0], [err.message]);
        summary.typed.sent += typedRecords.length;
        summary.typed.rejected += typedRecords.length;
      } else {
        summary.typed.sent += typedRecords.length;
        summary.typed.accepted += err.acceptedBefore;
        summary.typed.rejected += typedRecords.length - err.acceptedBefore;
        summary.typed.retries += retries;
        sample(`typed batch of ${typedRecords.length} from`, typedRecords[0], [err.message]);
      }
      summary.stopped = { reason: err.message, fatal: true };
      return false;
    } finally {
      deps.progress?.update(summary);
    }
    return true;
  };

  let index = 0;
  for (;;) {
    if (deps.signal?.aborted) {
      summary.stopped = { reason: 'interrupted', fatal: false };
      break;
    }
    const record = source.next();
    if (record === undefined) break;
    const due = config.schedule(record, index++);
    if (due !== undefined) {
      const wait = due - deps.now();
      if (wait >= MIN_SLEEP_MS) {
        // Everything pending is already due: send it before waiting for the next one.
        if (batch.length > 0 && !(await flush())) break;
        await deps.sleep(wait);
        if (deps.signal?.aborted) {
          summary.stopped = { reason: 'interrupted', fatal: false };
          break;
        }
      }
    }
    if (batch.length === 0) batchOpenedAt = due !== undefined ? deps.now() : 0;
    batch.push(record);
    if (meter && deps.typed) {
      for (let n = meter.afterPriceRecord(); n > 0; n--) typedBatch.push(deps.typed.generator.next(record.timestamp, deps.typed.priceOf));
    }
    if (batch.length >= config.batchSize || (due !== undefined && deps.now() - batchOpenedAt >= linger)) {
      if (!(await flush())) break;
    }
  }
  if (!summary.stopped?.fatal && (batch.length > 0 || typedBatch.length > 0)) await flush();

  summary.elapsedMs = deps.now() - started;
  summary.ratePerSecond = summary.elapsedMs > 0 ? (summary.sent * 1000) / summary.elapsedMs : 0;
  deps.progress?.finish();
  return summary;
}

export function formatSummary(s: RunSummary, destination: string): string {
  const lines = [
    `summary (${destination})`,
    `  sent      ${s.sent}`,
    `  accepted  ${s.accepted}`,
    `  rejected  ${s.rejected}`,
    `  retries   ${s.retries}`,
    `  rate      ${Math.round(s.ratePerSecond)} records/s over ${(s.elapsedMs / 1000).toFixed(2)} s`,
  ];
  if (s.typed.sent > 0) {
    lines.push(`  typed     sent ${s.typed.sent}, accepted ${s.typed.accepted}, rejected ${s.typed.rejected}, retries ${s.typed.retries}`);
  }
  if (s.rejectionSamples.length > 0) {
    lines.push('  rejections (first ones):');
    for (const r of s.rejectionSamples) lines.push(`    ${r}`);
  }
  if (s.stopped) lines.push(`  stopped early: ${s.stopped.reason}`);
  return `${lines.join('\n')}\n`;
}
