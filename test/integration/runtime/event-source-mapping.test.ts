import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DLQ_HEADERS } from '../../../shared/adapters/kafka';
import { decodeKafkaRecords, type MskEvent } from '../../../shared/adapters/kafka-event';
import { startEventSourceMapping, type EventSourceMapping } from '../../../local/runtime/event-source-mapping';
import { silentLogger } from '../../../local/runtime/logger';
import { kafka, TestKafka, uniqueName, waitFor } from './helpers';

const tk = new TestKafka();
const running: EventSourceMapping[] = [];

afterAll(async () => {
  await Promise.allSettled(running.map((m) => m.stop()));
  await tk.cleanup();
});

async function start(opts: Parameters<typeof startEventSourceMapping>[0]): Promise<EventSourceMapping> {
  const m = await startEventSourceMapping({ kafka, logger: silentLogger, retryBackoffMs: 20, maxBatchingWindowMs: 50, ...opts });
  tk.trackGroup(m.groupId);
  running.push(m);
  return m;
}

describe('Kafka event source mapping emulator (real broker)', () => {
  it('refuses to start on a topic that does not exist, naming it', async () => {
    const missing = uniqueName('it.runtime.missing');
    await expect(startEventSourceMapping({ kafka, logger: silentLogger, functionName: 'missing', topics: [missing], handler: () => undefined })).rejects.toThrow(missing);
  });

  let topic: string;
  beforeAll(async () => {
    topic = await tk.createTopic('roundtrip', 3);
  });

  it('delivers produced records as MSK-shaped batches, in order per partition, and commits them', async () => {
    const events: MskEvent[] = [];
    const seen: { key: string; seq: number; partition: number; offset: number }[] = [];
    const m = await start({
      functionName: uniqueName('rt'),
      topics: [topic],
      batchSize: 7,
      handler: (event) => {
        events.push(event);
        for (const r of decodeKafkaRecords(event)) {
          const { seq } = JSON.parse(r.value) as { seq: number };
          seen.push({ key: r.key!, seq, partition: r.partition, offset: r.offset });
        }
      },
    });
    const keys = ['AAPL', 'MSFT', 'NVDA', 'TSLA', 'AMZN'];
    await tk.produce(keys.flatMap((key) => Array.from({ length: 12 }, (_, seq) => ({ topic, key, value: JSON.stringify({ seq }), headers: { source: 'it' } }))));

    await waitFor(() => seen.length >= 60, { what: '60 records' });
    const first = events[0]!;
    expect(first.eventSource).toBe('aws:kafka');
    expect(first.bootstrapServers).toBe(kafka.brokers.join(','));
    expect(first.eventSourceArn).toMatch(/^arn:aws:kafka:/);
    for (const ev of events) {
      const total = Object.values(ev.records).reduce((n, list) => n + list.length, 0);
      expect(total).toBeLessThanOrEqual(7);
      for (const [groupKey, list] of Object.entries(ev.records)) {
        for (const r of list) {
          expect(groupKey).toBe(`${r.topic}-${r.partition}`);
          expect(r.timestampType).toBe('CREATE_TIME');
          expect(r.headers).toEqual([{ source: [...Buffer.from('it')] }]);
        }
      }
    }
    // Every key's sequence arrives complete and in order: the key pins a partition, the partition keeps order.
    for (const key of keys) {
      expect(seen.filter((s) => s.key === key).map((s) => s.seq)).toEqual([...Array(12).keys()]);
    }
    for (let p = 0; p < 3; p++) {
      const offsets = seen.filter((s) => s.partition === p).map((s) => s.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      expect(new Set(offsets).size).toBe(offsets.length);
    }
    const perPartition = [0, 1, 2].map((p) => seen.filter((s) => s.partition === p).length);
    await waitFor(async () => (await tk.committed(m.groupId, topic, 3)).every((c, p) => c === perPartition[p]), { what: 'commits' });
  });

  it('never runs two batches of one partition at once, even with several lanes', async () => {
    const t = await tk.createTopic('lanes', 3);
    const inFlight = new Set<string>();
    let overlaps = 0;
    let count = 0;
    await start({
      functionName: uniqueName('lanes'),
      topics: [t],
      batchSize: 5,
      concurrency: 3,
      handler: async (event) => {
        const parts = Object.keys(event.records);
        for (const p of parts) if (inFlight.has(p)) overlaps++;
        parts.forEach((p) => inFlight.add(p));
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
        parts.forEach((p) => inFlight.delete(p));
        count += decodeKafkaRecords(event).length;
      },
    });
    await tk.produce(Array.from({ length: 90 }, (_, i) => ({ topic: t, key: `k${i % 9}`, value: String(i) })));
    await waitFor(() => count >= 90, { what: '90 records' });
    expect(overlaps).toBe(0);
  });

  it('retries a throwing batch with backoff, commits nothing past it, then dead-letters it', async () => {
    const t = await tk.createTopic('throws', 1);
    const dlq = await tk.createTopic('dlq', 1);
    const attempts: number[] = [];
    const committedDuringRetries: number[] = [];
    const after: string[] = [];
    const functionName = uniqueName('throws');
    const m = await start({
      functionName,
      topics: [t],
      onFailureTopic: dlq,
      maxRetries: 2,
      retryBackoffMs: 100,
      batchSize: 1,
      handler: async (event) => {
        const [r] = decodeKafkaRecords(event);
        if (r!.value === 'poison') {
          attempts.push(Date.now());
          committedDuringRetries.push((await tk.committed(m.groupId, t, 1))[0]!);
          throw new TypeError('cannot digest poison');
        }
        after.push(r!.value);
      },
    });
    await tk.produce([{ topic: t, key: 'k', value: 'poison', headers: { trace: 'abc' } }, { topic: t, key: 'k', value: 'healthy' }]);
    await waitFor(() => after.length === 1, { what: 'the record after the poison one' });

    expect(attempts).toHaveLength(3); // first try + maxRetries
    // exponential backoff: 100 ms, then 200 ms (timers may fire a millisecond early)
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(98);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(198);
    // offset 0 is the poison record: nothing may be committed while it is being retried
    expect(committedDuringRetries.every((c) => c === -1)).toBe(true);

    const [dead] = await tk.readAll(dlq, 1);
    expect(dead!.value).toBe('poison');
    expect(dead!.key).toBe('k');
    expect(dead!.headers).toMatchObject({
      trace: 'abc',
      [DLQ_HEADERS.reason]: 'retries-exhausted',
      [DLQ_HEADERS.function]: functionName,
      [DLQ_HEADERS.errorType]: 'TypeError',
      [DLQ_HEADERS.errorMessage]: 'cannot digest poison',
      [DLQ_HEADERS.attempts]: '3',
      [DLQ_HEADERS.originalTopic]: t,
      [DLQ_HEADERS.originalPartition]: '0',
      [DLQ_HEADERS.originalOffset]: '0',
    });
    await waitFor(async () => (await tk.committed(m.groupId, t, 1))[0] === 2, { what: 'commit past both records' });
    expect(m.stats.deadLettered).toBe(1);
  });

  it('re-delivers a partial batch failure from the lowest failed record on, after committing what precedes it', async () => {
    const t = await tk.createTopic('partial', 1);
    await tk.produce(Array.from({ length: 10 }, (_, i) => ({ topic: t, key: 'k', value: String(i) })));
    const deliveries: number[][] = [];
    const committedAtRedelivery: number[] = [];
    const m = await start({
      functionName: uniqueName('partial'),
      topics: [t],
      batchSize: 10,
      maxBatchingWindowMs: 1000,
      handler: async (event) => {
        const records = decodeKafkaRecords(event);
        if (deliveries.length > 0) committedAtRedelivery.push((await tk.committed(m.groupId, t, 1))[0]!);
        deliveries.push(records.map((r) => Number(r.value)));
        if (deliveries.length === 1) {
          // 7 and 5 fail; Lambda restarts from the lowest, 5.
          const failed = records.filter((r) => r.value === '7' || r.value === '5');
          return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.itemIdentifier })) };
        }
        return { batchItemFailures: [] };
      },
    });
    await waitFor(() => deliveries.length >= 2, { what: 'redelivery' });
    expect(deliveries[0]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(deliveries[1]).toEqual([5, 6, 7, 8, 9]);
    expect(committedAtRedelivery[0]).toBe(5);
    await waitFor(async () => (await tk.committed(m.groupId, t, 1))[0] === 10, { what: 'final commit' });
    expect(deliveries).toHaveLength(2);
  });
});
