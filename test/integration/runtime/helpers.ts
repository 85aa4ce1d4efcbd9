/**
 * Test scaffolding for the runtime integration tests: throwaway topics on the
 * real broker (auto-create is off, so tests create their own), committed-offset
 * lookups and polling.
 */
import { randomBytes } from 'node:crypto';
import { Consumer } from '@platformatic/kafka';
import { connectionSettings, createAdmin, createProducer, loadKafkaConfig, produceRecords, type KafkaAdmin, type KafkaProducer, type RecordToProduce } from '../../../shared/adapters/kafka';

export const kafka = loadKafkaConfig();

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export class TestKafka {
  readonly admin: KafkaAdmin = createAdmin(kafka);
  readonly producer: KafkaProducer = createProducer(kafka);
  private readonly topics: string[] = [];
  private readonly groups: string[] = [];

  async createTopic(prefix: string, partitions: number): Promise<string> {
    const topic = uniqueName(`it.runtime.${prefix}`);
    await this.admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    this.topics.push(topic);
    await this.waitForLeaders(topic, partitions);
    return topic;
  }

  /** Deleted in cleanup(), along with the topics. */
  trackGroup(groupId: string): string {
    this.groups.push(groupId);
    return groupId;
  }

  private async waitForLeaders(topic: string, partitions: number): Promise<void> {
    await waitFor(async () => {
      const md = await this.admin.metadata({ topics: [topic], forceUpdate: true });
      const t = md.topics.get(topic);
      return t !== undefined && t.partitionsCount === partitions && t.partitions.every((p) => p.leader >= 0);
    }, { timeoutMs: 15_000, what: `leaders for ${topic}` });
  }

  produce(records: RecordToProduce[]): Promise<void> {
    return produceRecords(this.producer, records);
  }

  /** Committed offset (next offset to read) per partition; -1 when nothing is committed. */
  async committed(groupId: string, topic: string, partitions: number): Promise<number[]> {
    const res = await this.admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: topic, partitionIndexes: [...Array(partitions).keys()] }] }] });
    const out = Array<number>(partitions).fill(-1);
    for (const t of res[0]?.topics ?? []) {
      if (t.name !== topic) continue;
      for (const p of t.partitions) out[p.partitionIndex] = Number(p.committedOffset);
    }
    return out;
  }

  /** Reads every record currently in a topic (from the beginning, no group). */
  async readAll(topic: string, expected: number, timeoutMs = 15_000): Promise<{ key: string | null; value: string; headers: Record<string, string>; partition: number; offset: number }[]> {
    const consumer = new Consumer({ ...connectionSettings(kafka, {}, '-reader'), groupId: uniqueName('it-reader'), autocommit: false });
    this.groups.push(consumer.groupId);
    const out: { key: string | null; value: string; headers: Record<string, string>; partition: number; offset: number }[] = [];
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
      const deadline = setTimeout(() => void stream.close(), timeoutMs);
      for await (const m of stream) {
        const headers: Record<string, string> = {};
        for (const [k, v] of m.headers) headers[k.toString()] = v.toString();
        out.push({ key: m.key ? m.key.toString() : null, value: m.value ? m.value.toString() : '', headers, partition: m.partition, offset: Number(m.offset) });
        if (out.length >= expected) break;
      }
      clearTimeout(deadline);
      await stream.close();
    } finally {
      await consumer.close(true);
    }
    return out;
  }

  async cleanup(): Promise<void> {
    if (this.topics.length > 0) await this.admin.deleteTopics({ topics: this.topics }).catch(() => {});
    if (this.groups.length > 0) await this.admin.deleteGroups({ groups: this.groups }).catch(() => {});
    await this.producer.close().catch(() => {});
    await this.admin.close().catch(() => {});
  }
}

export async function waitFor(cond: () => boolean | Promise<boolean>, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
