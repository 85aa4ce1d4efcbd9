import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, DeleteTopicCommand } from '@aws-sdk/client-sns';
import { Redis } from 'ioredis';
import { topicNames } from '../shared/config';
import { createAdmin, loadKafkaConfig } from '../shared/adapters/kafka';
import { createSnsClient } from '../shared/adapters/sns';
import { applyLocalEnv } from './env';

/**
 * An isolated pipeline on the shared local services: its own topic namespace, Redis
 * logical database, SQLite file and SNS topic. Integration tests and benchmarks run
 * next to a developer's `npm start` without touching its data.
 */
export interface Sandbox {
  namespace: string;
  topics: ReturnType<typeof topicNames>;
  redisDb: number;
  dataDir: string;
  topicArn: string;
  /** Environment for worker processes and handler modules of this sandbox. */
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

export async function createSandbox(opts: { name?: string; redisDb?: number; partitions?: number } = {}): Promise<Sandbox> {
  // Local defaults on this process too: its own SDK and Kafka clients talk to the same stack.
  const base = { ...applyLocalEnv() };
  const id = `${opts.name ?? 'sbx'}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const namespace = `${id}.`;
  const topics = topicNames(namespace);
  // DB 0 is the developer's; 1–15 are handed out at random unless fixed by the caller.
  const redisDb = opts.redisDb ?? 1 + Math.floor(Math.random() * 15);
  const redisUrl = `${(base.REDIS_URL ?? 'redis://localhost:6379').replace(/\/\d*$/, '')}/${redisDb}`;
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  redis.disconnect();

  const admin = createAdmin(loadKafkaConfig(base));
  const partitions = opts.partitions ?? 3;
  try {
    await admin.createTopics({ topics: [topics.ticks, topics.indicators, topics.signals, topics.events, topics.deadLetter], partitions, replicas: 1 });
    await admin.createTopics({ topics: [topics.stateChangelog], partitions, replicas: 1, configs: [{ name: 'cleanup.policy', value: 'compact' }] });
  } finally {
    await admin.close();
  }
  const sns = createSnsClient();
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `market-signals-${id.replace(/[^A-Za-z0-9-]/g, '-')}` }));
  sns.destroy();
  const dataDir = mkdtempSync(join(tmpdir(), `${id}-`));
  const env: NodeJS.ProcessEnv = {
    ...base,
    TOPIC_NAMESPACE: namespace,
    REDIS_URL: redisUrl,
    DATA_DIR: dataDir,
    SQLITE_PATH: join(dataDir, 'market.db'),
    SIGNAL_TOPIC_ARN: TopicArn!,
  };
  return {
    namespace, topics, redisDb, dataDir, topicArn: TopicArn!, env,
    async cleanup() {
      const a = createAdmin(loadKafkaConfig(base));
      await a.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await a.close();
      const r = new Redis(redisUrl);
      await r.flushdb().catch(() => undefined);
      r.disconnect();
      const s = createSnsClient();
      await s.send(new DeleteTopicCommand({ TopicArn })).catch(() => undefined);
      s.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
