/**
 * One run's private slice of the shared local services, so the clean and the fault
 * run (and a developer's `npm start`) never see each other's data:
 *  - Kafka topics under their own TOPIC_NAMESPACE (auto-create is off: made here);
 *  - a Redis logical database of its own. The harness only ever FLUSHDBs that
 *    database, never FLUSHALL, so the data of a running stack in DB 0 survives;
 *  - its own SQLite file;
 *  - its own SNS topic in moto, with an SQS queue subscribed to it that records
 *    every notification the run sends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, DeleteTopicCommand, ListTopicsCommand, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { topicNames, type Topics } from '../config';
import { createAdmin, loadKafkaConfig, type KafkaAdmin } from '../adapters/kafka';
import { createSnsClient, createSqsClient } from '../adapters/sns';

export interface RunResources {
  label: string;
  namespace: string;
  topics: Topics;
  partitions: number;
  redisUrl: string;
  redisDb: number;
  dataDir: string;
  sqlitePath: string;
  topicArn: string;
  queueUrl: string;
  /** Environment for this run's worker processes. */
  env: NodeJS.ProcessEnv;
  cleanup(opts?: { groups?: string[] }): Promise<void>;
}

export class ResourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ResourceError';
  }
}

/** Marks a logical database as taken by a chaos run, so two runs (or a crashed one) are not handed the same one. */
const CLAIM_KEY = 'chaos:claimed-by';

/**
 * Picks an empty Redis logical database other than 0 (the developer's), from the top
 * down, and claims it. `preferred` forces one (it must still be empty or ours).
 */
export async function claimRedisDb(baseUrl: string, owner: string, preferred?: number): Promise<number> {
  const candidates = preferred !== undefined ? [preferred] : Array.from({ length: 15 }, (_, i) => 15 - i);
  for (const db of candidates) {
    const r = new Redis(`${baseUrl}/${db}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await r.connect();
      const size = await r.dbsize();
      if (size === 0 && (await r.set(CLAIM_KEY, owner, 'NX')) === 'OK') return db;
      if (preferred !== undefined) throw new ResourceError(`Redis database ${db} is not empty (${size} keys); pick an empty one with --redis-dbs`);
    } catch (err) {
      if (err instanceof ResourceError) throw err;
      throw new ResourceError(`cannot reach Redis at ${baseUrl}/${db}: ${(err as Error).message}`, { cause: err });
    } finally {
      r.disconnect();
    }
  }
  throw new ResourceError('no empty Redis logical database among 1-15; free one (FLUSHDB) or pass --redis-dbs');
}

export async function createRunResources(opts: {
  runId: string;
  label: string;
  baseEnv: NodeJS.ProcessEnv;
  partitions?: number;
  redisDb?: number;
}): Promise<RunResources> {
  const { runId, label, baseEnv } = opts;
  const partitions = opts.partitions ?? 3;
  const id = `chaos-${runId}-${label}`;
  const namespace = `${id}.`;
  const topics = topicNames(namespace);
  const baseRedis = (baseEnv.REDIS_URL ?? 'redis://localhost:6379').replace(/\/\d*$/, '');
  const kafka = loadKafkaConfig(baseEnv);
  const undo: (() => Promise<unknown>)[] = [];

  try {
    const redisDb = await claimRedisDb(baseRedis, id, opts.redisDb);
    const redisUrl = `${baseRedis}/${redisDb}`;
    undo.push(() => flushDb(redisUrl));

    const admin = createAdmin(kafka);
    try {
      const plain = [topics.ticks, topics.indicators, topics.signals, topics.events, topics.deadLetter];
      await admin.createTopics({ topics: plain, partitions, replicas: 1 });
      undo.push(() => deleteTopics(baseEnv, Object.values(topics)));
      await admin.createTopics({ topics: [topics.stateChangelog], partitions, replicas: 1, configs: [{ name: 'cleanup.policy', value: 'compact' }] });
      await waitForLeaders(admin, Object.values(topics), partitions);
    } finally {
      await admin.close().catch(() => undefined);
    }

    const dataDir = mkdtempSync(join(tmpdir(), `${id}-`));
    undo.push(async () => rmSync(dataDir, { recursive: true, force: true }));

    const sns = createSnsClient();
    const sqs = createSqsClient();
    let topicArn: string;
    let queueUrl: string;
    let subscriptionArn: string | undefined;
    try {
      topicArn = (await sns.send(new CreateTopicCommand({ Name: `market-signals-${id}` }))).TopicArn!;
      undo.push(() => withSns((c) => c.send(new DeleteTopicCommand({ TopicArn: topicArn }))));
      queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: id, Attributes: { VisibilityTimeout: '60' } }))).QueueUrl!;
      undo.push(() => withSqs((c) => c.send(new DeleteQueueCommand({ QueueUrl: queueUrl }))));
      const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
      subscriptionArn = (await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: attrs.Attributes!.QueueArn! }))).SubscriptionArn;
      if (subscriptionArn) {
        const arn = subscriptionArn;
        undo.push(() => withSns((c) => c.send(new UnsubscribeCommand({ SubscriptionArn: arn }))));
      }
    } finally {
      sns.destroy();
      sqs.destroy();
    }

    const env: NodeJS.ProcessEnv = {
      ...baseEnv,
      TOPIC_NAMESPACE: namespace,
      REDIS_URL: redisUrl,
      DATA_DIR: dataDir,
      SQLITE_PATH: join(dataDir, 'market.db'),
      SIGNAL_TOPIC_ARN: topicArn,
    };
    let cleaned: Promise<void> | undefined;
    return {
      label, namespace, topics, partitions, redisUrl, redisDb, dataDir, sqlitePath: join(dataDir, 'market.db'), topicArn, queueUrl, env,
      cleanup: (c = {}) => {
        cleaned ??= (async () => {
          if (c.groups?.length) await deleteGroups(baseEnv, c.groups);
          for (const step of undo.reverse()) await step().catch(() => undefined);
        })();
        return cleaned;
      },
    };
  } catch (err) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw err instanceof ResourceError ? err : new ResourceError(`setting up the ${label} run failed: ${(err as Error).message}`, { cause: err });
  }
}

async function waitForLeaders(admin: KafkaAdmin, topics: string[], partitions: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const md = await admin.metadata({ topics, forceUpdate: true }).catch(() => undefined);
    const ready = md && topics.every((t) => {
      const m = md.topics.get(t);
      return m !== undefined && m.partitionsCount === partitions && m.partitions.every((p) => p.leader >= 0);
    });
    if (ready) return;
    if (Date.now() > deadline) throw new ResourceError(`topics ${topics.join(', ')} have no leaders after 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function flushDb(url: string): Promise<void> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await r.flushdb();
  } finally {
    r.disconnect();
  }
}

async function deleteTopics(env: NodeJS.ProcessEnv, topics: string[]): Promise<void> {
  const admin = createAdmin(loadKafkaConfig(env));
  try {
    await admin.deleteTopics({ topics });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

async function deleteGroups(env: NodeJS.ProcessEnv, groups: string[]): Promise<void> {
  const admin = createAdmin(loadKafkaConfig(env));
  try {
    await admin.deleteGroups({ groups }).catch(() => undefined);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

async function withSns<T>(fn: (c: ReturnType<typeof createSnsClient>) => Promise<T>): Promise<T> {
  const c = createSnsClient();
  try {
    return await fn(c);
  } finally {
    c.destroy();
  }
}

async function withSqs<T>(fn: (c: ReturnType<typeof createSqsClient>) => Promise<T>): Promise<T> {
  const c = createSqsClient();
  try {
    return await fn(c);
  } finally {
    c.destroy();
  }
}

/** Run ids are `<start time in ms, base 36><4 hex digits>`; a run this much older is gone. */
const STALE_AFTER_MS = 3_600_000;

export function runStartedAt(runId: string): number | undefined {
  const m = /^([0-9a-z]+)[0-9a-f]{4}$/.exec(runId);
  const t = m ? parseInt(m[1]!, 36) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Removes what crashed runs left behind (a harness killed with SIGKILL cannot clean
 * up): topics, consumer groups, claimed Redis databases, SNS topics and SQS queues of
 * runs that started more than an hour ago. Returns the run ids swept.
 */
export async function sweepStaleRuns(baseEnv: NodeJS.ProcessEnv, now = Date.now()): Promise<string[]> {
  const stale = (id: string) => {
    const t = runStartedAt(id);
    return t !== undefined && now - t > STALE_AFTER_MS;
  };
  const idOf = (name: string) => /chaos-([0-9a-z]+)-(?:clean|fault)/.exec(name)?.[1];
  const swept = new Set<string>();

  const admin = createAdmin(loadKafkaConfig(baseEnv));
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith('chaos-') && stale(idOf(t) ?? ''));
    if (topics.length) await admin.deleteTopics({ topics });
    const all = [...(await admin.listGroups()).keys()];
    const groups = all.filter((g) => stale(idOf(g) ?? ''));
    if (groups.length) await admin.deleteGroups({ groups }).catch(() => undefined);
    for (const n of [...topics, ...groups]) swept.add(idOf(n)!);
    // Readers of crashed runs; a reader still in use is not empty, and the broker refuses to delete it.
    for (const g of all.filter((x) => x.startsWith('chaos-reader-'))) await admin.deleteGroups({ groups: [g] }).catch(() => undefined);
  } finally {
    await admin.close().catch(() => undefined);
  }

  const baseRedis = (baseEnv.REDIS_URL ?? 'redis://localhost:6379').replace(/\/\d*$/, '');
  for (let db = 1; db <= 15; db++) {
    const r = new Redis(`${baseRedis}/${db}`, { maxRetriesPerRequest: 1 });
    try {
      const owner = await r.get(CLAIM_KEY);
      const id = owner ? idOf(owner) : undefined;
      if (id && stale(id)) {
        await r.flushdb();
        swept.add(id);
      }
    } finally {
      r.disconnect();
    }
  }

  await withSqs(async (sqs) => {
    const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'chaos-' }));
    for (const url of QueueUrls) {
      const id = idOf(url.split('/').pop() ?? '');
      if (id && stale(id)) {
        await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
        swept.add(id);
      }
    }
  });
  await withSns(async (sns) => {
    let token: string | undefined;
    do {
      const page = await sns.send(new ListTopicsCommand({ ...(token ? { NextToken: token } : {}) }));
      for (const { TopicArn } of page.Topics ?? []) {
        const id = TopicArn ? idOf(TopicArn.split(':').pop() ?? '') : undefined;
        if (TopicArn && id && stale(id)) {
          await sns.send(new DeleteTopicCommand({ TopicArn })).catch(() => undefined);
          swept.add(id);
        }
      }
      token = page.NextToken;
    } while (token);
  });
  return [...swept].sort();
}
