import { randomUUID } from 'node:crypto';
import { TOPICS } from '../config';
import type { OutMessage, Publisher } from '../pipeline/ports';
import type { ChangelogReader } from '../pipeline/state-cache';
import { createConsumer, produceRecords, type KafkaConfig, type KafkaProducer } from './kafka';

/** The stages' Publisher port over the shared idempotent producer. */
export function kafkaPublisher(producer: KafkaProducer): Publisher {
  return {
    async publish(messages: OutMessage[]) {
      if (messages.length) await produceRecords(producer, messages);
    },
  };
}

/**
 * Reads the compacted state changelog from the beginning to the end offsets seen at
 * the start, keeping the last value per key. It runs only after the Redis cache was
 * lost, so a throwaway consumer group is fine; nothing is committed.
 */
export function changelogReader(cfg: KafkaConfig, topic: string = TOPICS.stateChangelog, timeoutMs = 60_000): ChangelogReader {
  return async () => {
    const consumer = createConsumer(cfg, `changelog-restore-${randomUUID()}`);
    const latest = new Map<string, string>();
    try {
      const ends = await consumer.listOffsets({ topics: [topic] });
      const endOffsets = (ends.get(topic) ?? []).map((o) => BigInt(o));
      const remaining = new Set(endOffsets.map((end, p) => (end > 0n ? p : -1)).filter((p) => p >= 0));
      if (remaining.size === 0) return latest;
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        void stream.close();
      }, timeoutMs);
      for await (const m of stream) {
        const key = m.key ? Buffer.from(m.key).toString('utf8') : '';
        if (m.value && m.value.length) latest.set(key, Buffer.from(m.value).toString('utf8'));
        else latest.delete(key);
        if (m.offset + 1n >= (endOffsets[m.partition] ?? 0n)) remaining.delete(m.partition);
        if (remaining.size === 0) break;
      }
      clearTimeout(timer);
      if (timedOut) throw new Error(`Timed out restoring ${topic} after ${timeoutMs} ms`);
      await stream.close();
      return latest;
    } finally {
      await consumer.close(true);
    }
  };
}
