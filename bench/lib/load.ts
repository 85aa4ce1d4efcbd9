/**
 * Load generators for the pipeline benchmark: as fast as possible through
 * `POST /ticks` or straight to Kafka, and at a fixed rate.
 *
 * Several senders run at once, but each owns a disjoint set of symbols and sends
 * its batches one after another: a symbol's ticks then reach Kafka in event-time
 * order, as they would from one feed per symbol, and process never sees them as
 * late. Request bodies are serialized before the clock starts, so the client's
 * JSON work does not compete with the pipeline for the machine's two cores.
 */
import { produceRecords, type KafkaProducer, type RecordToProduce } from '../../shared/adapters/kafka';
import type { PriceRecord } from '../../shared/schema/records';

export interface SendCounters {
  sent: number;
  accepted: number;
  rejected: number;
  requests: number;
  retries: number;
}

export interface SendResult extends SendCounters {
  /** Epoch ms of the first send and of the last acknowledgement. */
  startedAt: number;
  finishedAt: number;
}

/** Spreads symbols over `lanes` so each lane carries about the same number of records (largest first, into the lightest lane). */
export function assignLanes(records: readonly PriceRecord[], lanes: number): PriceRecord[][] {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.symbol, (counts.get(r.symbol) ?? 0) + 1);
  const load = new Array<number>(lanes).fill(0);
  const laneOf = new Map<string, number>();
  for (const [symbol, n] of [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    const lightest = load.indexOf(Math.min(...load));
    laneOf.set(symbol, lightest);
    load[lightest]! += n;
  }
  const out: PriceRecord[][] = Array.from({ length: lanes }, () => []);
  for (const r of records) out[laneOf.get(r.symbol)!]!.push(r);
  return out.filter((l) => l.length > 0);
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class LoadError extends Error {}

/** One POST /ticks; retries 429 and 503 as a well-behaved client does; anything else unexpected is an error. */
export async function postTicks(url: string, body: string, count: number, counters: SendCounters): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    counters.requests++;
    const res = await fetch(`${url}/ticks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await res.text();
    if ((res.status === 429 || res.status === 503) && attempt < 20) {
      counters.retries++;
      await sleep(Math.min(1000, 50 * attempt));
      continue;
    }
    if (res.status !== 202) throw new LoadError(`POST /ticks answered ${res.status}: ${text.slice(0, 300)}`);
    const ack = JSON.parse(text) as { accepted: number; rejected: unknown[] };
    counters.sent += count;
    counters.accepted += ack.accepted;
    counters.rejected += ack.rejected.length;
    return;
  }
}

export async function sendOverHttp(url: string, records: readonly PriceRecord[], opts: { concurrency: number; batchSize: number; counters: SendCounters }): Promise<SendResult> {
  const lanes = assignLanes(records, opts.concurrency).map((lane) => chunks(lane, opts.batchSize).map((c) => ({ body: JSON.stringify(c), count: c.length })));
  const startedAt = Date.now();
  await Promise.all(
    lanes.map(async (lane) => {
      for (const { body, count } of lane) await postTicks(url, body, count, opts.counters);
    }),
  );
  return { ...opts.counters, startedAt, finishedAt: Date.now() };
}

export function tickRecordsFor(topic: string, records: readonly PriceRecord[]): RecordToProduce[] {
  return records.map((r) => ({ topic, key: r.symbol, value: JSON.stringify(r) }));
}

export async function sendToKafka(producer: KafkaProducer, topic: string, records: readonly PriceRecord[], opts: { concurrency: number; batchSize: number; counters: SendCounters }): Promise<SendResult> {
  const lanes = assignLanes(records, opts.concurrency).map((lane) => chunks(tickRecordsFor(topic, lane), opts.batchSize));
  const startedAt = Date.now();
  await Promise.all(
    lanes.map(async (lane) => {
      for (const batch of lane) {
        opts.counters.requests++;
        await produceRecords(producer, batch, batch.length);
        opts.counters.sent += batch.length;
        opts.counters.accepted += batch.length;
      }
    }),
  );
  return { ...opts.counters, startedAt, finishedAt: Date.now() };
}

export interface PacedResult {
  /** Epoch ms at which each tick was handed to the transport (NaN if never sent). */
  sentAt: Float64Array;
  /** How far the sender fell behind its schedule at worst, in ms: the rate was held only if this stays small. */
  maxBehindMs: number;
  startedAt: number;
  finishedAt: number;
  requests: number;
}

/**
 * Sends `total` items at `rate` per second: every `slotMs` it sends what the schedule
 * says is due, in one request. One request at a time (order per symbol is kept); if
 * a request is slow the next carries more items, so the rate holds on average.
 */
export async function sendPaced(total: number, rate: number, send: (from: number, to: number) => Promise<void>, opts: { slotMs?: number; onProgress?: (sent: number) => void } = {}): Promise<PacedResult> {
  const slotMs = opts.slotMs ?? 10;
  const sentAt = new Float64Array(total).fill(Number.NaN);
  const t0 = performance.now();
  const startedAt = Date.now();
  let sent = 0;
  let requests = 0;
  let maxBehindMs = 0;
  while (sent < total) {
    const elapsed = performance.now() - t0;
    const due = Math.min(total, Math.floor((elapsed / 1000) * rate));
    if (due > sent) {
      // Item i falls due at (i + 1) / rate seconds; the oldest one in this request is item `sent`.
      maxBehindMs = Math.max(maxBehindMs, elapsed - ((sent + 1) / rate) * 1000);
      const now = Date.now();
      sentAt.fill(now, sent, due);
      await send(sent, due);
      requests++;
      sent = due;
      opts.onProgress?.(sent);
    }
    const now = performance.now() - t0;
    await sleep(Math.max(1, (Math.floor(now / slotMs) + 1) * slotMs - now));
  }
  return { sentAt, maxBehindMs, startedAt, finishedAt: Date.now(), requests };
}
