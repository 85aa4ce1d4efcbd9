import { afterEach, describe, expect, it } from '@jest/globals';
import { backoffDelay, MappingCore, parseBatchItemFailures, type DeadLetterInfo, type MappingCoreOptions } from '../../../local/runtime/esm-core';
import type { SourceRecord } from '../../../local/runtime/kafka-event';
import { silentLogger } from '../../../local/runtime/logger';

function rec(partition: number, offset: number, value = `${partition}:${offset}`, topic = 't'): SourceRecord {
  return { topic, partition, offset: BigInt(offset), timestamp: 0n, key: null, value: Buffer.from(value), headers: [] };
}
const id = (r: SourceRecord): string => `${r.partition}@${r.offset}`;

/** Records every effect in order, so tests can assert what happened before what. */
class Harness {
  log: string[] = [];
  batches: string[][] = [];
  deadLetters: { records: string[]; info: DeadLetterInfo }[] = [];
  committed = new Map<number, number>();
  core: MappingCore;
  constructor(handler: (records: SourceRecord[], call: number) => unknown, over: Partial<MappingCoreOptions> = {}) {
    this.core = new MappingCore({
      functionName: 'fn',
      batchSize: 10,
      maxBatchingWindowMs: 0,
      maxRetries: 2,
      retryBackoffMs: 1,
      maxRetryBackoffMs: 10,
      bisectBatchOnError: false,
      reportBatchItemFailures: true,
      concurrency: 1,
      maxBufferedRecords: 1000,
      maxPayloadBytes: 6 * 1024 * 1024,
      logger: silentLogger,
      invoke: async (records) => {
        this.batches.push(records.map(id));
        this.log.push(`invoke ${records.map(id).join(',')}`);
        return handler(records, this.batches.length);
      },
      commit: async (r) => {
        this.log.push(`commit ${id(r)}`);
        this.committed.set(r.partition, Number(r.offset) + 1);
      },
      deadLetter: async (records, info) => {
        this.log.push(`dlq ${records.map(id).join(',')}`);
        this.deadLetters.push({ records: records.map(id), info });
      },
      ...over,
    });
    running.push(this.core);
  }
  add(...records: SourceRecord[]): this {
    records.forEach((r) => this.core.add(r));
    return this;
  }
}

const running: MappingCore[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('MappingCore batching', () => {
  it('closes batches at batchSize and keeps each partition in offset order', async () => {
    const h = new Harness(() => undefined, { batchSize: 4 });
    h.add(rec(0, 0), rec(1, 0), rec(0, 1), rec(1, 1), rec(0, 2), rec(1, 2), rec(0, 3), rec(1, 3), rec(0, 4));
    h.core.start();
    await until(() => h.committed.get(0) === 5 && h.committed.get(1) === 4);
    expect(h.batches.map((b) => b.length)).toEqual([4, 4, 1]);
    const flat = h.batches.flat();
    for (const p of [0, 1]) {
      const offsets = flat.filter((x) => x.startsWith(`${p}@`)).map((x) => Number(x.split('@')[1]));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
  });

  it('waits for the batching window when fewer than batchSize records are waiting', async () => {
    const h = new Harness(() => undefined, { batchSize: 100, maxBatchingWindowMs: 150 });
    h.core.start();
    const t0 = Date.now();
    h.add(rec(0, 0), rec(0, 1));
    await until(() => h.batches.length === 1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(145);
    expect(h.batches[0]).toEqual(['0@0', '0@1']);
  });

  it('does not wait for the window once batchSize records are there', async () => {
    const h = new Harness(() => undefined, { batchSize: 3, maxBatchingWindowMs: 5000 });
    h.core.start();
    const t0 = Date.now();
    h.add(rec(0, 0), rec(0, 1), rec(0, 2));
    await until(() => h.batches.length === 1);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('splits batches at the payload limit', async () => {
    const big = (o: number): SourceRecord => rec(0, o, 'x'.repeat(3000));
    const h = new Harness(() => undefined, { batchSize: 100, maxPayloadBytes: 9000 });
    h.add(big(0), big(1), big(2), big(3));
    h.core.start();
    await until(() => h.committed.get(0) === 4);
    // each record is ~4 KB once base64-encoded, so two fit under 9000 bytes
    expect(h.batches.map((b) => b.length)).toEqual([2, 2]);
  });

  it('commits the last record of every partition only after the handler succeeds', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const h = new Harness(() => gate);
    h.add(rec(0, 0), rec(1, 0), rec(1, 1));
    h.core.start();
    await until(() => h.batches.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.log.filter((l) => l.startsWith('commit'))).toEqual([]);
    release();
    await until(() => h.log.length === 3);
    expect(h.log.slice(1).sort()).toEqual(['commit 0@0', 'commit 1@1']);
  });

  it('drops queued records past a rewind so re-read records are not delivered out of order', async () => {
    const h = new Harness(() => undefined);
    h.add(rec(0, 0), rec(0, 1), rec(0, 2), rec(0, 3), rec(0, 1), rec(0, 2), rec(0, 3), rec(0, 4));
    h.core.start();
    await until(() => h.committed.get(0) === 5);
    expect(h.batches.flat()).toEqual(['0@0', '0@1', '0@2', '0@3', '0@4']);
    expect(h.core.stats.rewinds).toBe(1);
  });

  it('never has one partition in two concurrent invocations across lanes', async () => {
    const active = new Set<number>();
    let overlap = false;
    const h = new Harness(async (records) => {
      const parts = [...new Set(records.map((r) => r.partition))];
      if (parts.some((p) => active.has(p))) overlap = true;
      parts.forEach((p) => active.add(p));
      await new Promise((r) => setTimeout(r, 3));
      parts.forEach((p) => active.delete(p));
    }, { batchSize: 3, concurrency: 4 });
    h.core.start();
    for (let o = 0; o < 30; o++) for (let p = 0; p < 6; p++) h.add(rec(p, o));
    await until(() => [0, 1, 2, 3, 4, 5].every((p) => h.committed.get(p) === 30), 5000);
    expect(overlap).toBe(false);
  });
});

describe('MappingCore failures', () => {
  it('retries a throwing batch maxRetries times, dead-letters it, and only then commits', async () => {
    const h = new Harness(() => {
      throw new RangeError('boom');
    }, { maxRetries: 2 });
    h.add(rec(0, 0), rec(0, 1));
    h.core.start();
    await until(() => h.committed.get(0) === 2);
    expect(h.log).toEqual(['invoke 0@0,0@1', 'invoke 0@0,0@1', 'invoke 0@0,0@1', 'dlq 0@0,0@1', 'commit 0@1']);
    expect(h.deadLetters[0]!.info).toEqual({ reason: 'retries-exhausted', error: { type: 'RangeError', message: 'boom' }, attempts: 3 });
    expect(h.core.stats).toMatchObject({ failedInvocations: 3, retries: 2, deadLettered: 2, recordsCommitted: 2 });
  });

  it('keeps retrying without a limit when maxRetries is -1, and commits when the handler recovers', async () => {
    const h = new Harness((_, call) => {
      if (call < 6) throw new Error('transient');
    }, { maxRetries: -1 });
    h.add(rec(0, 0));
    h.core.start();
    await until(() => h.committed.get(0) === 1);
    expect(h.batches).toHaveLength(6);
    expect(h.deadLetters).toHaveLength(0);
  });

  it('keeps the batch uncommitted while the on-failure destination is unavailable', async () => {
    let dlqCalls = 0;
    const h = new Harness(() => {
      throw new Error('boom');
    }, {
      maxRetries: 0,
      deadLetter: async () => {
        dlqCalls++;
        if (dlqCalls < 3) throw new Error('dlq down');
      },
    });
    h.add(rec(0, 0));
    h.core.start();
    await until(() => h.committed.get(0) === 1);
    expect(dlqCalls).toBe(3);
    expect(h.log).toEqual(['invoke 0@0', 'commit 0@0']);
  });

  it('on a partial batch response commits up to the lowest failed offset and re-delivers from it', async () => {
    const h = new Harness((records, call) => {
      if (call === 1) {
        return { batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 4 } }, { itemIdentifier: { partition: 't-0', offset: 2 } }] };
      }
      return { batchItemFailures: [] };
    });
    h.add(rec(0, 0), rec(0, 1), rec(1, 0), rec(0, 2), rec(0, 3), rec(0, 4), rec(1, 1));
    h.core.start();
    await until(() => h.committed.get(0) === 5 && h.committed.get(1) === 2);
    expect(h.batches[1]).toEqual(['0@2', '0@3', '0@4']);
    expect(h.log[1]).toBe('commit 0@1'); // partition 0 up to (not including) offset 2
    expect(h.log[2]).toBe('commit 1@1'); // partition 1 had no failure
    expect(h.batches).toHaveLength(2);
  });

  it('re-delivers a failed first record without committing its partition', async () => {
    const h = new Harness((records, call) => (call === 1 ? { batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 0 } }] } : null));
    h.add(rec(0, 0), rec(0, 1));
    h.core.start();
    await until(() => h.committed.get(0) === 2);
    expect(h.log).toEqual(['invoke 0@0,0@1', 'invoke 0@0,0@1', 'commit 0@1']);
  });

  it('dead-letters the failed tail once partial retries are exhausted', async () => {
    const h = new Harness(() => ({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: '1' } }] }), { maxRetries: 1 });
    h.add(rec(0, 0), rec(0, 1), rec(0, 2));
    h.core.start();
    await until(() => h.committed.get(0) === 3);
    expect(h.log).toEqual(['invoke 0@0,0@1,0@2', 'commit 0@0', 'invoke 0@1,0@2', 'dlq 0@1,0@2', 'commit 0@2']);
    expect(h.deadLetters[0]!.info.reason).toBe('partial-batch-retries-exhausted');
    expect(h.deadLetters[0]!.info.attempts).toBe(2);
  });

  it('treats a response naming a record outside the batch as a failure of the whole batch', async () => {
    const h = new Harness((_, call) => (call === 1 ? { batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 99 } }] } : undefined));
    h.add(rec(0, 0));
    h.core.start();
    await until(() => h.committed.get(0) === 1);
    expect(h.batches).toHaveLength(2);
    expect(h.core.stats.lastError).toContain('not in the batch');
  });

  it('ignores batchItemFailures when partial responses are not enabled', async () => {
    const h = new Harness(() => ({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 0 } }] }), { reportBatchItemFailures: false });
    h.add(rec(0, 0));
    h.core.start();
    await until(() => h.committed.get(0) === 1);
    expect(h.batches).toHaveLength(1);
  });

  it('bisects a failing batch down to the poison record and dead-letters only that one', async () => {
    const succeeded: string[] = [];
    const h = new Harness((records) => {
      if (records.some((r) => r.value?.toString() === 'poison')) throw new Error('poison');
      succeeded.push(...records.map(id));
    }, { bisectBatchOnError: true, maxRetries: 1 });
    h.add(rec(0, 0), rec(0, 1), rec(0, 2, 'poison'), rec(0, 3), rec(0, 4));
    h.core.start();
    await until(() => h.committed.get(0) === 5);
    expect(h.deadLetters.map((d) => d.records)).toEqual([['0@2']]);
    expect(succeeded).toEqual(['0@0', '0@1', '0@3', '0@4']);
  });

  it('abandons a batch waiting for a retry when stopped, leaving it uncommitted', async () => {
    const h = new Harness(() => {
      throw new Error('boom');
    }, { maxRetries: 5, retryBackoffMs: 10_000, maxRetryBackoffMs: 10_000 });
    h.add(rec(0, 0));
    h.core.start();
    await until(() => h.batches.length === 1);
    const t0 = Date.now();
    await h.core.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(h.log).toEqual(['invoke 0@0']);
  });
});

describe('parseBatchItemFailures', () => {
  const batch = [rec(0, 5), rec(0, 6), rec(1, 2)];
  it.each([[undefined], [null], [{}], [{ batchItemFailures: [] }], [{ batchItemFailures: null }], ['ok']])('reads %j as full success', (result) => {
    expect(parseBatchItemFailures(result, batch).size).toBe(0);
  });
  it('keeps the lowest failed offset per partition and accepts numeric strings', () => {
    const failures = parseBatchItemFailures({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: '6' } }, { itemIdentifier: { partition: 't-0', offset: 5 } }, { itemIdentifier: { partition: 't-1', offset: 2 } }] }, batch);
    expect([...failures]).toEqual([['t-0', 5n], ['t-1', 2n]]);
  });
  it.each([
    [{ batchItemFailures: {} }, 'must be an array'],
    [{ batchItemFailures: [{}] }, 'itemIdentifier is missing'],
    [{ batchItemFailures: [{ itemIdentifier: { partition: '', offset: 5 } }] }, 'partition must be'],
    [{ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 5.5 } }] }, 'offset must be an integer'],
    [{ batchItemFailures: [{ itemIdentifier: { partition: 't-1', offset: 5 } }] }, 'not in the batch'],
  ])('rejects %j', (result, message) => {
    expect(() => parseBatchItemFailures(result, batch)).toThrow(message);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 100, 1000))).toEqual([100, 200, 400, 800, 1000]);
  });
});
