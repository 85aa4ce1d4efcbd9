/**
 * Where each topic ends and how far each consumer group has committed, straight
 * from the broker: the pipeline's progress as Kafka sees it, independent of the
 * runtime's own counters (which reset when a worker restarts).
 */
import type { KafkaAdmin } from '../../shared/adapters/kafka';

export interface OffsetSnapshot {
  at: number;
  /** Records in each topic (sum of partition end offsets). */
  ends: Record<string, number>;
  /** Records each group has committed on its topics. */
  committed: Record<string, number>;
}

export interface GroupRef {
  groupId: string;
  topics: readonly string[];
}

export async function snapshotOffsets(admin: KafkaAdmin, topics: readonly string[], groups: readonly GroupRef[], partitions: number): Promise<OffsetSnapshot> {
  const indexes = [...Array(partitions).keys()];
  const [listed, committed] = await Promise.all([
    admin.listOffsets({ topics: topics.map((name) => ({ name, partitions: indexes.map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) })) }),
    admin.listConsumerGroupOffsets({ groups: groups.map((g) => ({ groupId: g.groupId, topics: g.topics.map((name) => ({ name, partitionIndexes: indexes })) })) }),
  ]);
  const ends: Record<string, number> = {};
  for (const t of listed) ends[t.name] = t.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
  const byGroup: Record<string, number> = {};
  for (const g of groups) {
    const entry = committed.find((c) => c.groupId === g.groupId);
    let n = 0;
    // A partition the group never committed reports -1: nothing consumed there yet.
    for (const t of entry?.topics ?? []) for (const p of t.partitions) n += p.committedOffset > 0n ? Number(p.committedOffset) : 0;
    byGroup[g.groupId] = n;
  }
  return { at: Date.now(), ends, committed: byGroup };
}

/** Records a group still has to consume on its topics. */
export function lagOf(s: OffsetSnapshot, group: GroupRef): number {
  const end = group.topics.reduce((sum, t) => sum + (s.ends[t] ?? 0), 0);
  return Math.max(0, end - (s.committed[group.groupId] ?? 0));
}
