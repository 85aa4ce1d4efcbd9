import { randomUUID } from 'node:crypto';
import { TOPICS } from '../config';
import type { OutMessage, Publisher } from '../pipeline/ports';
import type { ChangelogReader } from '../pipeline/state-cache';
import { Consumer } from '@platformatic/kafka';
import { connectionSettings, createAdmin, produceRecords, type KafkaConfig, type KafkaProducer } from './kafka';

/** The stages' Publisher port over the shared idempotent producer. */
export function kafkaPublisher(producer: KafkaProducer): Publisher {
  return {
    async publish(messages: OutMessage[]) {
      if (messages.length) await produceRecords(producer, messages);
    },
  };
}

export interface TopicRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/**
 * Every record of a topic up to the end offsets seen at the start, in partition and
 * offset order, without committing anything; the throwaway group is deleted after.
 */
export async function readTopic(kafka: KafkaConfig, topic: string, timeoutMs = 60_000): Promise<TopicRecord[]> {
  const groupId = `topic-reader-${randomUUID()}`;
  const consumer = new Consumer({ ...connectionSettings(kafka, {}, '-reader'), groupId, autocommit: false });
  const out: TopicRecord[] = [];
  try {
    const ends = await consumer.listOffsets({ topics: [topic] });
    const endOffsets = (ends.get(topic) ?? []).map((o) => BigInt(o));
    const remaining = new Set(endOffsets.flatMap((e, p) => (e > 0n ? [p] : [])));
    if (remaining.size === 0) return out;
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void stream.close();
    }, timeoutMs);
    for await (const m of stream) {
      const headers: Record<string, string> = {};
      for (const [k, v] of m.headers) headers[Buffer.from(k).toString('utf8')] = Buffer.from(v).toString('utf8');
      out.push({ partition: m.partition, offset: Number(m.offset), key: m.key ? Buffer.from(m.key).toString('utf8') : null, value: m.value ? Buffer.from(m.value).toString('utf8') : '', headers });
      if (m.offset + 1n >= (endOffsets[m.partition] ?? 0n)) remaining.delete(m.partition);
      if (remaining.size === 0) break;
    }
    clearTimeout(timer);
    await stream.close().catch(() => undefined);
    if (timedOut) throw new Error(`reading ${topic} timed out after ${timeoutMs} ms with ${remaining.size} partition(s) unread`);
    return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  } finally {
    await consumer.close(true).catch(() => undefined);
    // The broker keeps even an empty group around; this one was only a way to read.
    const admin = createAdmin(kafka);
    await admin.deleteGroups({ groups: [groupId] }).catch(() => undefined);
    await admin.close().catch(() => undefined);
  }
}

/**
 * Reads the compacted state changelog to its end, keeping the last value per key (an
 * empty value deletes the key). It runs only after the Redis cache was lost.
 */
export function changelogReader(cfg: KafkaConfig, topic: string = TOPICS.stateChangelog, timeoutMs = 60_000): ChangelogReader {
  return async () => {
    const latest = new Map<string, string>();
    for (const r of await readTopic(cfg, topic, timeoutMs)) {
      if (r.value) latest.set(r.key ?? '', r.value);
      else latest.delete(r.key ?? '');
    }
    return latest;
  };
}
