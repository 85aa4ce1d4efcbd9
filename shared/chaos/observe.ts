/**
 * Reading a run from the outside: consumer lag, topic contents, and the final
 * state in Redis, SQLite and the SQS queue.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { DLQ_HEADERS, loadKafkaConfig, type KafkaAdmin } from '../adapters/kafka';
import { readTopic, type TopicRecord } from '../adapters/kafka-stream';
import { keys } from '../adapters/redis';
import { createSqsClient } from '../adapters/sns';
import { DatabaseSync } from 'node:sqlite';
import type { BarRow, Delivery, RunOutcome, SignalRow } from './compare';
import type { ConsumerGroup } from './pipeline';
import type { RunResources } from './resources';

export interface Lag {
  total: number;
  byGroup: Record<string, number>;
  /** Sum of end offsets over the run's topics: changes while anything is still being produced. */
  produced: number;
}

/** Records not yet committed by each consumer group (a group with no commit yet lags by the whole topic). */
export async function consumerLag(admin: KafkaAdmin, groups: readonly ConsumerGroup[], allTopics: readonly string[], partitions: number): Promise<Lag> {
  const indexes = [...Array(partitions).keys()];
  const listed = await admin.listOffsets({ topics: allTopics.map((name) => ({ name, partitions: indexes.map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) })) });
  const end = new Map<string, bigint>();
  let produced = 0;
  for (const t of listed) for (const p of t.partitions) {
    end.set(`${t.name}:${p.partitionIndex}`, p.offset);
    produced += Number(p.offset);
  }
  const committed = await admin.listConsumerGroupOffsets({
    groups: groups.map((g) => ({ groupId: g.groupId, topics: g.topics.map((name) => ({ name, partitionIndexes: indexes })) })),
  });
  const byGroup: Record<string, number> = {};
  let total = 0;
  for (const g of groups) {
    const entry = committed.find((c) => c.groupId === g.groupId);
    let lag = 0;
    for (const topic of g.topics) for (const p of indexes) {
      const endOffset = end.get(`${topic}:${p}`) ?? 0n;
      const c = entry?.topics.find((t) => t.name === topic)?.partitions.find((x) => x.partitionIndex === p)?.committedOffset ?? -1n;
      lag += Number(endOffset - (c < 0n ? 0n : c));
    }
    byGroup[g.groupId] = lag;
    total += lag;
  }
  return { total, byGroup, produced };
}


/** Drains the run's queue: every notification delivered, with SQS's SentTimestamp. */
export async function drainQueue(queueUrl: string, quietPolls = 2): Promise<Delivery[]> {
  const sqs = createSqsClient();
  const out: Delivery[] = [];
  try {
    let empty = 0;
    while (empty < quietPolls) {
      const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['SentTimestamp'] }));
      const msgs = res.Messages ?? [];
      if (msgs.length === 0) {
        empty++;
        continue;
      }
      empty = 0;
      for (const m of msgs) {
        const envelope = JSON.parse(m.Body ?? '{}') as { Message?: string };
        const signal = JSON.parse(envelope.Message ?? '{}') as { id?: unknown };
        out.push({ id: typeof signal.id === 'string' ? signal.id : `(unreadable: ${(m.Body ?? '').slice(0, 60)})`, sentAt: Number(m.Attributes?.SentTimestamp ?? 0) });
      }
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
    return out;
  } finally {
    sqs.destroy();
  }
}

/** Sha-256 over the records in partition/offset order, so two runs' inputs compare by bytes. */
export function digestRecords(records: readonly TopicRecord[]): string {
  const h = createHash('sha256');
  for (const r of records) h.update(`${r.partition}\u0000${r.key ?? ''}\u0000${r.value}\u0001`);
  return h.digest('hex');
}

export async function collectOutcome(res: RunResources, deliveries: Delivery[]): Promise<RunOutcome> {
  const kafka = loadKafkaConfig(res.env);
  const [ticks, signalMessages, deadLetters] = await Promise.all([
    readTopic(kafka, res.topics.ticks),
    readTopic(kafka, res.topics.signals),
    readTopic(kafka, res.topics.deadLetter),
  ]);

  const redis = new Redis(res.redisUrl, { maxRetriesPerRequest: 2 });
  const states: RunOutcome['states'] = {};
  const snapshots: RunOutcome['snapshots'] = {};
  let recent: string[];
  try {
    const symbols = [...new Set(ticks.map((t) => t.key ?? ''))].filter(Boolean).sort();
    for (const s of symbols) {
      const state = await redis.get(keys.symbolState(s));
      const parsed = state ? (JSON.parse(state) as { engine: unknown; offsets: unknown }) : null;
      states[s] = parsed ? { engine: parsed.engine, offsets: parsed.offsets } : null;
      const snap = await redis.get(keys.snapshot(s));
      snapshots[s] = snap ? (JSON.parse(snap) as unknown) : null;
    }
    recent = (await redis.zrange(keys.recentSignals, '0', '-1')).sort();
  } finally {
    redis.disconnect();
  }

  let bars: BarRow[] = [];
  let signals: SignalRow[] = [];
  if (existsSync(res.sqlitePath)) {
    // node:sqlite, not better-sqlite3: better-sqlite3 12 on Node 24 can abort the process (a failed
    // CHECK in node::RemoveEnvironmentCleanupHook) when a statement of a closed database is
    // garbage collected later, and this process reads a database and then goes on for minutes.
    const db = new DatabaseSync(res.sqlitePath, { readOnly: true });
    try {
      bars = db.prepare('SELECT * FROM bars ORDER BY symbol, interval, start').all().map((r) => ({ ...r })) as BarRow[];
      signals = (db.prepare('SELECT * FROM signals ORDER BY id').all() as unknown as (SignalRow & { created_at?: unknown })[]).map(({ created_at: _ignored, ...rest }) => rest);
    } finally {
      db.close();
    }
  }

  const ids = signalMessages.map((m) => {
    try {
      return String((JSON.parse(m.value) as { id?: unknown }).id);
    } catch {
      return '(unreadable)';
    }
  });
  const dl: Record<string, number> = {};
  for (const d of deadLetters) {
    const fn = d.headers[DLQ_HEADERS.function] ?? '?';
    const reason = d.headers[DLQ_HEADERS.reason] ?? '?';
    // The event source mapping's own dead letters carry the attempts; a stage's carry a free-text reason.
    const k = d.headers[DLQ_HEADERS.attempts] !== undefined ? `${fn}/${reason} (${d.headers[DLQ_HEADERS.errorType] ?? '?'})` : `${fn}/${reason.split(':')[0]}`;
    dl[k] = (dl[k] ?? 0) + 1;
  }
  return {
    input: { records: ticks.length, digest: digestRecords(ticks) },
    states,
    snapshots,
    bars,
    signals,
    recent,
    deliveries,
    signalMessages: { total: signalMessages.length, distinct: new Set(ids).size },
    deadLetters: dl,
  };
}
