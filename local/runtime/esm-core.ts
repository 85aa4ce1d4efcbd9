/**
 * The broker-independent heart of the Kafka event source mapping emulator:
 * buffering, batching, ordering, retries, partial batch responses and dead
 * lettering. It never talks to Kafka itself; records come in through add() and
 * leave through the commit/deadLetter/invoke callbacks, so every rule here can
 * be tested without a broker.
 *
 * Rules, as Lambda applies them to Kafka event source mappings:
 *  - a batch closes at batchSize records, at the payload limit, or when the
 *    oldest waiting record has waited maxBatchingWindowMs;
 *  - records of one partition are delivered in offset order and a partition is
 *    never in two invocations at once (a partition belongs to exactly one lane);
 *  - offsets are committed only after the handler succeeded for them;
 *  - a thrown error retries the same batch with exponential backoff; after
 *    maxRetries the batch goes to the on-failure destination, then is committed;
 *  - a partial batch response commits each partition up to (not including) its
 *    lowest failed offset and re-delivers from that record on.
 */
import { describeError, type RuntimeLogger } from './logger';
import { estimateRecordEventBytes, partitionKey, type SourceRecord } from './kafka-event';

export type DeadLetterReason = 'retries-exhausted' | 'partial-batch-retries-exhausted';

export interface DeadLetterInfo {
  reason: DeadLetterReason;
  error: { type: string; message: string };
  /** Failed invocations the records went through. */
  attempts: number;
}

export interface MappingCoreOptions {
  functionName: string;
  batchSize: number;
  maxBatchingWindowMs: number;
  /** -1 retries forever. */
  maxRetries: number;
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
  bisectBatchOnError: boolean;
  reportBatchItemFailures: boolean;
  /** Independent batch loops; partitions are spread over them, each partition stays on one. */
  concurrency: number;
  /** add() callers should wait (waitForSpace) once this many records are buffered. */
  maxBufferedRecords: number;
  /** Lambda's synchronous invocation payload limit. */
  maxPayloadBytes: number;
  invoke: (records: SourceRecord[]) => Promise<unknown>;
  /** Commits the record's partition up to and including the record. */
  commit: (record: SourceRecord) => Promise<void>;
  deadLetter: (records: SourceRecord[], info: DeadLetterInfo) => Promise<void>;
  logger: RuntimeLogger;
}

export interface MappingStats {
  recordsReceived: number;
  invocations: number;
  succeededInvocations: number;
  failedInvocations: number;
  partialFailures: number;
  retries: number;
  recordsCommitted: number;
  deadLettered: number;
  commitErrors: number;
  rewinds: number;
  buffered: number;
  lastError?: string;
}

interface Queued {
  rec: SourceRecord;
  key: string;
  seq: number;
  arrivedAt: number;
  epoch: number;
  failures: number;
}

interface PartitionState {
  key: string;
  lane: number;
  queue: Queued[];
  /** Offset the source is expected to deliver next; a lower one means it re-read from an earlier position. */
  nextOffset?: bigint;
  /** Bumped whenever the source rewinds, so stale in-flight records are not put back in front of fresh ones. */
  epoch: number;
}

export class BatchItemFailureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBatchItemFailures';
  }
}

/**
 * Reads a handler's partial batch response. Returns the failed offsets per
 * partition key, an empty map for full success, or throws when the response
 * names records that were not in the batch (Lambda then fails the whole batch).
 */
export function parseBatchItemFailures(result: unknown, batch: readonly SourceRecord[]): Map<string, bigint> {
  const failures = new Map<string, bigint>();
  if (result === null || result === undefined || typeof result !== 'object') return failures;
  const list = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === null || list === undefined) return failures;
  if (!Array.isArray(list)) throw new BatchItemFailureError('batchItemFailures must be an array');
  const present = new Set(batch.map((r) => `${partitionKey(r.topic, r.partition)}@${r.offset}`));
  list.forEach((item: unknown, i) => {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier as { partition?: unknown; offset?: unknown } | undefined;
    if (!id || typeof id !== 'object') throw new BatchItemFailureError(`batchItemFailures[${i}].itemIdentifier is missing`);
    if (typeof id.partition !== 'string' || id.partition === '') {
      throw new BatchItemFailureError(`batchItemFailures[${i}].itemIdentifier.partition must be "<topic>-<partition>"`);
    }
    const offsetOk = (typeof id.offset === 'number' && Number.isSafeInteger(id.offset)) || (typeof id.offset === 'string' && /^\d+$/.test(id.offset));
    if (!offsetOk) throw new BatchItemFailureError(`batchItemFailures[${i}].itemIdentifier.offset must be an integer`);
    const offset = BigInt(id.offset as number | string);
    if (!present.has(`${id.partition}@${offset}`)) {
      throw new BatchItemFailureError(`batchItemFailures[${i}] names ${id.partition} offset ${offset}, which is not in the batch`);
    }
    const prev = failures.get(id.partition);
    if (prev === undefined || offset < prev) failures.set(id.partition, offset);
  });
  return failures;
}

export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

function laneOf(key: string, lanes: number): number {
  if (lanes <= 1) return 0;
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return h % lanes;
}

export class MappingCore {
  readonly stats: MappingStats = {
    recordsReceived: 0,
    invocations: 0,
    succeededInvocations: 0,
    failedInvocations: 0,
    partialFailures: 0,
    retries: 0,
    recordsCommitted: 0,
    deadLettered: 0,
    commitErrors: 0,
    rewinds: 0,
    buffered: 0,
  };

  private readonly partitions = new Map<string, PartitionState>();
  private readonly laneWaiters: (() => void)[][];
  private readonly spaceWaiters: (() => void)[] = [];
  private readonly sleepers = new Set<() => void>();
  private seq = 0;
  private stopping = false;
  private lanesDone: Promise<void>[] = [];

  constructor(private readonly o: MappingCoreOptions) {
    this.laneWaiters = Array.from({ length: Math.max(1, o.concurrency) }, () => []);
  }

  start(): void {
    this.lanesDone = this.laneWaiters.map((_, lane) =>
      this.runLane(lane).catch((err: unknown) => {
        this.o.logger.error('batch loop crashed', { function: this.o.functionName, lane, error: describeError(err) });
      }),
    );
  }

  /** Stops taking batches, lets the in-flight invocation (and its commit) finish, abandons pending retries. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const waiters of this.laneWaiters) waiters.splice(0).forEach((w) => w());
    this.spaceWaiters.splice(0).forEach((w) => w());
    [...this.sleepers].forEach((wake) => wake());
    await Promise.all(this.lanesDone);
  }

  get isFull(): boolean {
    return this.stats.buffered >= this.o.maxBufferedRecords;
  }

  waitForSpace(): Promise<void> {
    if (!this.isFull || this.stopping) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  add(rec: SourceRecord): void {
    const key = partitionKey(rec.topic, rec.partition);
    let ps = this.partitions.get(key);
    if (!ps) {
      ps = { key, lane: laneOf(key, this.laneWaiters.length), queue: [], epoch: 0 };
      this.partitions.set(key, ps);
    }
    if (ps.nextOffset !== undefined && rec.offset < ps.nextOffset) {
      // The source went back (a rebalance re-read from the committed offset): what we queued beyond it comes again.
      const before = ps.queue.length;
      ps.queue = ps.queue.filter((q) => q.rec.offset < rec.offset);
      this.stats.buffered -= before - ps.queue.length;
      ps.epoch++;
      this.stats.rewinds++;
      this.o.logger.debug('source rewound', { partition: key, from: String(ps.nextOffset), to: String(rec.offset) });
    }
    ps.queue.push({ rec, key, seq: this.seq++, arrivedAt: Date.now(), epoch: ps.epoch, failures: 0 });
    ps.nextOffset = rec.offset + 1n;
    this.stats.recordsReceived++;
    this.stats.buffered++;
    const laneCount = this.countLane(ps.lane);
    if (laneCount === 1 || laneCount >= this.o.batchSize) this.wakeLane(ps.lane);
  }

  /** After a rebalance: forget partitions this consumer no longer owns, and re-read the rest from their committed offsets. */
  resetPartitions(keep?: ReadonlySet<string>): void {
    for (const [key, ps] of this.partitions) {
      this.stats.buffered -= ps.queue.length;
      ps.queue = [];
      ps.nextOffset = undefined;
      ps.epoch++;
      if (keep && !keep.has(key)) this.partitions.delete(key);
    }
    this.spaceWaiters.splice(0).forEach((w) => w());
  }

  private countLane(lane: number): number {
    let n = 0;
    for (const ps of this.partitions.values()) if (ps.lane === lane) n += ps.queue.length;
    return n;
  }

  private oldestArrival(lane: number): number | undefined {
    let oldest: number | undefined;
    for (const ps of this.partitions.values()) {
      const head = ps.lane === lane ? ps.queue[0] : undefined;
      if (head && (oldest === undefined || head.arrivedAt < oldest)) oldest = head.arrivedAt;
    }
    return oldest;
  }

  private wakeLane(lane: number): void {
    this.laneWaiters[lane]?.splice(0).forEach((w) => w());
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Resolves true when the lane has a batch to take, false when stopping. */
  private async waitForBatch(lane: number): Promise<boolean> {
    for (;;) {
      if (this.stopping) return false;
      const count = this.countLane(lane);
      const oldest = this.oldestArrival(lane);
      const waited = oldest === undefined ? 0 : Date.now() - oldest;
      if (count >= this.o.batchSize || (count > 0 && waited >= this.o.maxBatchingWindowMs)) return true;
      await new Promise<void>((resolve) => {
        const waiters = this.laneWaiters[lane]!;
        let timer: NodeJS.Timeout | undefined;
        const done = (): void => {
          if (timer) clearTimeout(timer);
          resolve();
        };
        waiters.push(done);
        if (count > 0) timer = setTimeout(() => {
          const i = waiters.indexOf(done);
          if (i >= 0) waiters.splice(i, 1);
          done();
        }, this.o.maxBatchingWindowMs - waited);
      });
    }
  }

  /** Takes records across the lane's partitions in arrival order, so requeued records (older) go first. */
  private takeBatch(lane: number): Queued[] {
    const heads = [...this.partitions.values()].filter((ps) => ps.lane === lane && ps.queue.length > 0);
    const batch: Queued[] = [];
    let bytes = 0;
    while (batch.length < this.o.batchSize) {
      let best: PartitionState | undefined;
      for (const ps of heads) {
        const head = ps.queue[0];
        if (head && (!best || head.seq < best.queue[0]!.seq)) best = ps;
      }
      if (!best) break;
      const next = best.queue[0]!;
      const size = estimateRecordEventBytes(next.rec);
      if (batch.length > 0 && bytes + size > this.o.maxPayloadBytes) break;
      bytes += size;
      batch.push(best.queue.shift()!);
    }
    this.stats.buffered -= batch.length;
    if (!this.isFull) this.spaceWaiters.splice(0).forEach((w) => w());
    return batch;
  }

  private async runLane(lane: number): Promise<void> {
    while (await this.waitForBatch(lane)) {
      const batch = this.takeBatch(lane);
      if (batch.length > 0) await this.processBatch(batch);
    }
  }

  private retriesExhausted(failures: number): boolean {
    return this.o.maxRetries >= 0 && failures > this.o.maxRetries;
  }

  private async invoke(batch: Queued[]): Promise<{ ok: true; result: unknown } | { ok: false; error: unknown }> {
    this.stats.invocations++;
    try {
      return { ok: true, result: await this.o.invoke(batch.map((q) => q.rec)) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  private async processBatch(batch: Queued[]): Promise<void> {
    let attempt = 0;
    for (;;) {
      const outcome = await this.invoke(batch);
      let error: unknown;
      if (outcome.ok) {
        let failed = new Map<string, bigint>();
        try {
          if (this.o.reportBatchItemFailures) failed = parseBatchItemFailures(outcome.result, batch.map((q) => q.rec));
        } catch (err) {
          error = err;
        }
        if (error === undefined) {
          this.stats.succeededInvocations++;
          if (failed.size === 0) {
            await this.commitGroups(batch);
            return;
          }
          this.stats.partialFailures++;
          await this.handlePartialFailure(batch, failed);
          return;
        }
      } else {
        error = outcome.error;
      }

      this.stats.failedInvocations++;
      const info = describeError(error);
      this.stats.lastError = `${info.type}: ${info.message}`;
      if (this.o.bisectBatchOnError && batch.length > 1) {
        this.o.logger.warn('invocation failed, bisecting batch', { function: this.o.functionName, records: batch.length, error: info });
        const half = Math.ceil(batch.length / 2);
        // Batch order is arrival order, so every partition's records in the first half precede those in the second.
        await this.processBatch(batch.slice(0, half));
        if (!this.stopping) await this.processBatch(batch.slice(half));
        return;
      }
      attempt++;
      for (const q of batch) q.failures++;
      if (this.retriesExhausted(attempt)) {
        this.o.logger.error('retries exhausted, sending batch to the on-failure destination', {
          function: this.o.functionName, records: batch.length, attempts: attempt, error: info,
        });
        if (await this.deadLetter(batch, { reason: 'retries-exhausted', error: info, attempts: attempt })) await this.commitGroups(batch);
        return;
      }
      if (this.stopping) return; // uncommitted: the next consumer of the group gets the batch again
      this.stats.retries++;
      const delay = backoffDelay(attempt, this.o.retryBackoffMs, this.o.maxRetryBackoffMs);
      this.o.logger.warn('invocation failed, retrying batch', { function: this.o.functionName, records: batch.length, attempt, delayMs: delay, error: info });
      await this.sleep(delay);
      if (this.stopping) return;
    }
  }

  private async handlePartialFailure(batch: Queued[], failed: Map<string, bigint>): Promise<void> {
    let worstFailures = 0;
    for (const [key, records] of groupByPartition(batch)) {
      const failedAt = failed.get(key);
      if (failedAt === undefined) {
        await this.commit(records[records.length - 1]!, records.length);
        continue;
      }
      const done = records.filter((q) => q.rec.offset < failedAt);
      const retry = records.filter((q) => q.rec.offset >= failedAt);
      if (done.length > 0) await this.commit(done[done.length - 1]!, done.length);
      for (const q of retry) q.failures++;
      const failures = retry[0]!.failures;
      if (this.retriesExhausted(failures)) {
        this.o.logger.error('partial batch retries exhausted, sending records to the on-failure destination', {
          function: this.o.functionName, partition: key, fromOffset: String(failedAt), records: retry.length, attempts: failures,
        });
        const info = { reason: 'partial-batch-retries-exhausted' as const, error: { type: 'BatchItemFailure', message: `handler reported ${key} offset ${failedAt} as failed` }, attempts: failures };
        if (await this.deadLetter(retry, info)) await this.commit(retry[retry.length - 1]!, retry.length);
        continue;
      }
      this.requeue(key, retry);
      worstFailures = Math.max(worstFailures, failures);
    }
    if (worstFailures > 0 && !this.stopping) {
      this.stats.retries++;
      const delay = backoffDelay(worstFailures, this.o.retryBackoffMs, this.o.maxRetryBackoffMs);
      this.o.logger.warn('partial batch failure, re-delivering from the failed records', { function: this.o.functionName, delayMs: delay });
      await this.sleep(delay);
    }
  }

  private requeue(key: string, records: Queued[]): void {
    const ps = this.partitions.get(key);
    if (!ps) return; // partition revoked meanwhile: its new owner reads from the committed offset
    const fresh = records.filter((q) => q.epoch === ps.epoch);
    ps.queue.unshift(...fresh);
    this.stats.buffered += fresh.length;
  }

  /** Produces to the on-failure destination, retrying until it works; false when stopped first. */
  private async deadLetter(batch: Queued[], info: DeadLetterInfo): Promise<boolean> {
    let attempt = 0;
    for (;;) {
      try {
        await this.o.deadLetter(batch.map((q) => q.rec), info);
        this.stats.deadLettered += batch.length;
        return true;
      } catch (err) {
        attempt++;
        this.o.logger.error('could not write to the on-failure destination; batch stays uncommitted', { function: this.o.functionName, attempt, error: describeError(err) });
        if (this.stopping) return false;
        await this.sleep(backoffDelay(attempt, this.o.retryBackoffMs, this.o.maxRetryBackoffMs));
        if (this.stopping) return false;
      }
    }
  }

  private async commitGroups(batch: Queued[]): Promise<void> {
    for (const records of groupByPartition(batch).values()) await this.commit(records[records.length - 1]!, records.length);
  }

  private async commit(last: Queued, count: number): Promise<void> {
    try {
      await this.o.commit(last.rec);
      this.stats.recordsCommitted += count;
    } catch (err) {
      // Not fatal: the records were processed; a failed commit only means they may be delivered again.
      this.stats.commitErrors++;
      this.o.logger.warn('offset commit failed; records may be delivered again', { function: this.o.functionName, partition: last.key, offset: String(last.rec.offset), error: describeError(err) });
    }
  }
}

function groupByPartition(batch: readonly Queued[]): Map<string, Queued[]> {
  const groups = new Map<string, Queued[]>();
  for (const q of batch) {
    let g = groups.get(q.key);
    if (!g) groups.set(q.key, (g = []));
    g.push(q);
  }
  return groups;
}
