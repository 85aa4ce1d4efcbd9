import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { TOPICS } from '../shared/config';
import { createAdmin, createProducer, loadKafkaConfig, produceRecords, type KafkaAdmin } from '../shared/adapters/kafka';
import { mappingGroupId } from './runtime/event-source-mapping';
import { streamFunctions } from './runtime/functions';
import { changelogReader } from '../shared/adapters/kafka-stream';

/**
 * Gives `npm start` a fresh simulated market. The feed replays days of bars ending
 * now; on top of state left by an earlier run (whose event time is already at
 * "now") every new bar would be late. So the stage state goes: the Redis database,
 * the compacted changelog it would be restored from, and the SQLite store; and the
 * stream functions' consumer groups move to the end of their topics, so records an
 * earlier run left unprocessed are not applied on top of the new market.
 */
export async function resetLocalState(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const redis = new Redis(env.REDIS_URL ?? 'redis://localhost:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
  // A compacted topic refuses DeleteRecords; a tombstone per key is how its keys are removed.
  const kafka = loadKafkaConfig(env);
  const latest = await changelogReader(kafka)();
  if (latest.size > 0) {
    const producer = createProducer(kafka);
    try {
      await produceRecords(producer, [...latest.keys()].map((key) => ({ topic: TOPICS.stateChangelog, key, value: null })));
    } finally {
      await producer.close();
    }
  }
  const admin = createAdmin(kafka);
  try {
    for (const fn of streamFunctions()) {
      for (const source of fn.eventSources) {
        const groupId = source.groupId ?? mappingGroupId(fn.name, source.topics);
        const ends = await admin.listOffsets({ topics: await Promise.all(source.topics.map(async (name) => ({ name, partitions: await partitionsOf(admin, name) }))) });
        // -1 asks for each partition's high watermark (the next offset to be written).
        await admin.alterConsumerGroupOffsets({ groupId, topics: ends.map((t) => ({ name: t.name, partitionOffsets: t.partitions.map((p) => ({ partition: p.partitionIndex, offset: p.offset })) })) });
      }
    }
  } finally {
    await admin.close();
  }
  const db = env.SQLITE_PATH;
  if (db) for (const f of [db, `${db}-journal`]) rmSync(f, { force: true });
}

async function partitionsOf(admin: KafkaAdmin, topic: string): Promise<{ partitionIndex: number; timestamp: bigint }[]> {
  const md = await admin.metadata({ topics: [topic] });
  return [...Array(md.topics.get(topic)?.partitionsCount ?? 0).keys()].map((partitionIndex) => ({ partitionIndex, timestamp: -1n }));
}
