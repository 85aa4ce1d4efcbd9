/**
 * Kafka event source mapping emulator: consumes topics from a real broker with a
 * consumer group and invokes a Lambda handler with Amazon MSK shaped batches,
 * following the ESM rules implemented in esm-core.ts.
 *
 * Differences from AWS, on purpose:
 *  - one poller per mapping with `concurrency` sequential lanes (AWS scales
 *    pollers with partitions); partition order holds either way;
 *  - the on-failure destination gets each failed record itself, with DLQ_HEADERS
 *    describing the failure; AWS sends the records with its own metadata format;
 *  - MaximumRecordAgeInSeconds and AT_TIMESTAMP are not emulated;
 *  - a handler that times out cannot be killed in-process: the batch is failed
 *    and `onTimeout` is called (the worker process exits, as Lambda would recycle
 *    the sandbox).
 */
import type { Message } from '@platformatic/kafka';
import { TOPICS } from '../../shared/config';
import {
  createConsumer,
  createProducer,
  DLQ_HEADERS,
  loadKafkaConfig,
  produceRecords,
  type KafkaAuthDeps,
  type KafkaConfig,
  type KafkaConsumer,
  type KafkaProducer,
} from '../../shared/adapters/kafka';
import type { MskEvent } from '../../shared/adapters/kafka-event';
import { buildMskEvent, localClusterArn, partitionKey, type SourceRecord } from './kafka-event';
import { MappingCore, type DeadLetterInfo, type MappingStats } from './esm-core';
import { createConsoleLogger, describeError, type RuntimeLogger } from './logger';
import { HandlerTimeoutError, invokeWithTimeout, type LambdaContext } from './lambda-context';

export { HandlerTimeoutError, createLambdaContext, invokeWithTimeout, type LambdaContext } from './lambda-context';

export type KafkaHandler = (event: MskEvent, context: LambdaContext) => unknown;

/** Limits how many invocations of one function run at once (Lambda reserved concurrency). */
export class ConcurrencyGate {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new EsmConfigError(`reservedConcurrency must be an integer >= 1, got ${limit}`);
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

export class EsmConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EsmConfigError';
  }
}

export interface EventSourceMappingOptions {
  functionName: string;
  topics: string[];
  handler: KafkaHandler;
  /** Default `lambda-<functionName>-<topics joined by +>`: one group per function and topic set, fixed once created (as ConsumerGroupId). */
  groupId?: string;
  /** 1..10000, default 100. */
  batchSize?: number;
  /** 0..300000 ms, default 500 (the Kafka ESM default). */
  maxBatchingWindowMs?: number;
  /** -1 (forever) or 0..10000. Default -1, which AWS caps at 10 when an on-failure destination is set. */
  maxRetries?: number;
  /** First retry delay; doubles per attempt up to maxRetryBackoffMs. Default 500. */
  retryBackoffMs?: number;
  maxRetryBackoffMs?: number;
  /** Topic for batches that exhausted their retries; null disables it (then retries must be finite or the partition blocks). Default market.dlq. */
  onFailureTopic?: string | null;
  /** Where a consumer group without committed offsets starts. Default TRIM_HORIZON. */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  bisectBatchOnError?: boolean;
  /** Honour `batchItemFailures` responses (FunctionResponseTypes: ReportBatchItemFailures). Default true. */
  reportBatchItemFailures?: boolean;
  /** Parallel batch lanes for this mapping, partitions spread over them. Default 1. */
  concurrency?: number;
  /** Shared by all mappings of one function to emulate reserved concurrency. */
  gate?: ConcurrencyGate;
  /** Handler timeout (Lambda function timeout). Default 60000. */
  timeoutMs?: number;
  onTimeout?: (err: HandlerTimeoutError) => void;
  kafka?: KafkaConfig;
  kafkaDeps?: KafkaAuthDeps;
  /** Reuse a producer for the on-failure destination instead of creating one. */
  producer?: KafkaProducer;
  sessionTimeoutMs?: number;
  /** Static group membership id; give a restarted worker the same id so it resumes without a session-timeout wait. */
  groupInstanceId?: string;
  eventSourceArn?: string;
  logger?: RuntimeLogger;
  /** Maximum records buffered ahead of the handler. Default max(1000, 4 x batchSize). */
  maxBufferedRecords?: number;
}

export interface EventSourceMapping {
  readonly functionName: string;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Live counters. */
  readonly stats: MappingStats;
  stop(): Promise<void>;
}

const SIX_MB = 6 * 1024 * 1024;
const COMMIT_TIMEOUT_MS = 15_000;

function checkInt(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new EsmConfigError(`${name} must be an integer in ${min}..${max}, got ${v}`);
  return v;
}

interface ResolvedOptions {
  functionName: string;
  topics: string[];
  groupId: string;
  batchSize: number;
  maxBatchingWindowMs: number;
  maxRetries: number;
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
  onFailureTopic: string | null;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  bisectBatchOnError: boolean;
  reportBatchItemFailures: boolean;
  concurrency: number;
  timeoutMs: number;
  maxBufferedRecords: number;
}

/** The consumer group of a mapping that names none: one per function and topic set. */
export function mappingGroupId(functionName: string, topics: readonly string[]): string {
  return `lambda-${functionName}-${[...topics].sort().join('+')}`;
}

/** Validates options the way CreateEventSourceMapping would, naming the offending field. */
export function resolveMappingOptions(o: EventSourceMappingOptions): ResolvedOptions {
  if (typeof o.functionName !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(o.functionName)) {
    throw new EsmConfigError(`functionName must be 1-64 letters, digits, - or _, got ${JSON.stringify(o.functionName)}`);
  }
  if (!Array.isArray(o.topics) || o.topics.length === 0 || o.topics.some((t) => typeof t !== 'string' || t === '')) {
    throw new EsmConfigError(`topics must be a non-empty array of topic names (${o.functionName})`);
  }
  if (typeof o.handler !== 'function') throw new EsmConfigError(`handler must be a function (${o.functionName})`);
  const startingPosition = o.startingPosition ?? 'TRIM_HORIZON';
  if (startingPosition !== 'TRIM_HORIZON' && startingPosition !== 'LATEST') {
    throw new EsmConfigError(`startingPosition must be TRIM_HORIZON or LATEST, got ${JSON.stringify(startingPosition)}`);
  }
  const onFailureTopic = o.onFailureTopic === undefined ? TOPICS.deadLetter : o.onFailureTopic;
  if (onFailureTopic !== null && o.topics.includes(onFailureTopic)) {
    throw new EsmConfigError(`onFailureTopic ${onFailureTopic} is also a source topic; Lambda rejects this to prevent loops`);
  }
  const maxRetries = checkInt('maxRetries', o.maxRetries ?? -1, -1, 10_000);
  const batchSize = checkInt('batchSize', o.batchSize ?? 100, 1, 10_000);
  const topics = [...o.topics];
  return {
    functionName: o.functionName,
    topics,
    groupId: o.groupId ?? mappingGroupId(o.functionName, topics),
    batchSize,
    maxBatchingWindowMs: checkInt('maxBatchingWindowMs', o.maxBatchingWindowMs ?? 500, 0, 300_000),
    // AWS: "When you configure both infinite retries and an on-failure destination, Lambda automatically applies a maximum of 10 retry attempts."
    maxRetries: maxRetries === -1 && onFailureTopic !== null ? 10 : maxRetries,
    retryBackoffMs: checkInt('retryBackoffMs', o.retryBackoffMs ?? 500, 0, 600_000),
    maxRetryBackoffMs: checkInt('maxRetryBackoffMs', o.maxRetryBackoffMs ?? 30_000, 0, 3_600_000),
    onFailureTopic,
    startingPosition,
    bisectBatchOnError: o.bisectBatchOnError ?? false,
    reportBatchItemFailures: o.reportBatchItemFailures ?? true,
    concurrency: checkInt('concurrency', o.concurrency ?? 1, 1, 1000),
    timeoutMs: checkInt('timeoutMs', o.timeoutMs ?? 60_000, 1, 900_000),
    maxBufferedRecords: checkInt('maxBufferedRecords', o.maxBufferedRecords ?? Math.max(1000, 4 * batchSize), 1, 10_000_000),
  };
}

function deadLetterHeaders(functionName: string, r: SourceRecord, info: DeadLetterInfo): Record<string, string | Buffer> {
  const headers: Record<string, string | Buffer> = {};
  for (const [name, value] of r.headers) {
    if (value !== null && value !== undefined) headers[typeof name === 'string' ? name : name.toString('utf8')] = value;
  }
  headers[DLQ_HEADERS.reason] = info.reason;
  headers[DLQ_HEADERS.function] = functionName;
  headers[DLQ_HEADERS.errorType] = info.error.type;
  headers[DLQ_HEADERS.errorMessage] = info.error.message.slice(0, 1024);
  headers[DLQ_HEADERS.attempts] = String(info.attempts);
  headers[DLQ_HEADERS.originalTopic] = r.topic;
  headers[DLQ_HEADERS.originalPartition] = String(r.partition);
  headers[DLQ_HEADERS.originalOffset] = String(r.offset);
  headers[DLQ_HEADERS.originalTimestamp] = String(r.timestamp);
  headers[DLQ_HEADERS.failedAt] = new Date().toISOString();
  return headers;
}

async function ensureTopicsExist(consumer: KafkaConsumer, topics: string[], functionName: string): Promise<void> {
  let metadata;
  try {
    metadata = await consumer.metadata({ topics, autocreateTopics: false });
  } catch (err) {
    throw new EsmConfigError(`${functionName}: cannot read metadata for topics ${topics.join(', ')} (${describeError(err).message}): is the broker up, and do the topics exist? Topic auto-creation is off; scripts/stack.sh up creates them`);
  }
  const missing = topics.filter((t) => !metadata.topics.has(t));
  if (missing.length > 0) throw new EsmConfigError(`${functionName}: topic(s) ${missing.join(', ')} do not exist`);
}

/**
 * Starts consuming and invoking. Resolves once the consumer has joined its group
 * and knows where to start, so records produced after this resolves are seen
 * even with startingPosition LATEST.
 */
export async function startEventSourceMapping(options: EventSourceMappingOptions): Promise<EventSourceMapping> {
  const o = resolveMappingOptions(options);
  const kafka = options.kafka ?? loadKafkaConfig();
  const logger = options.logger ?? createConsoleLogger(`esm:${o.functionName}`);
  const eventSourceArn = options.eventSourceArn ?? localClusterArn();
  const ownsProducer = !options.producer && o.onFailureTopic !== null;
  const producer = options.producer ?? (o.onFailureTopic !== null ? createProducer(kafka, options.kafkaDeps) : undefined);

  let consumer: KafkaConsumer | undefined;
  let stream: Awaited<ReturnType<KafkaConsumer['consume']>> | undefined;
  let stopping = false;

  const core = new MappingCore({
    functionName: o.functionName,
    batchSize: o.batchSize,
    maxBatchingWindowMs: o.maxBatchingWindowMs,
    maxRetries: o.maxRetries,
    retryBackoffMs: o.retryBackoffMs,
    maxRetryBackoffMs: o.maxRetryBackoffMs,
    bisectBatchOnError: o.bisectBatchOnError,
    reportBatchItemFailures: o.reportBatchItemFailures,
    concurrency: o.concurrency,
    maxBufferedRecords: o.maxBufferedRecords,
    maxPayloadBytes: SIX_MB,
    logger,
    invoke: (records) => {
      const event = buildMskEvent(records, { bootstrapServers: kafka.brokers, eventSourceArn });
      const run = (): Promise<unknown> => invokeWithTimeout(options.handler, event, o.functionName, o.timeoutMs, options.onTimeout);
      return options.gate ? options.gate.run(run) : run();
    },
    // Straight to the live consumer rather than through message.commit(): a message's commit is tied to the stream
    // that delivered it and never settles once that stream is gone (broker outage, reconnect). Commits of one
    // partition cannot race, since a partition's batches run one after another on a single lane.
    commit: async (record) => {
      const c = consumer;
      if (!c) throw new Error('no consumer');
      const { topic, partition, offset, leaderEpoch } = record as unknown as Message;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          c.commit({ offsets: [{ topic, partition, offset: offset + 1n, leaderEpoch: leaderEpoch ?? -1 }] }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`commit not acknowledged within ${COMMIT_TIMEOUT_MS} ms`)), COMMIT_TIMEOUT_MS);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    deadLetter: async (records, info) => {
      if (!producer || o.onFailureTopic === null) throw new Error('no on-failure destination configured');
      const topic = o.onFailureTopic;
      await produceRecords(producer, records.map((r) => ({ topic, key: r.key ?? null, value: r.value ?? null, headers: deadLetterHeaders(o.functionName, r, info) })));
    },
  });

  const connect = async (): Promise<void> => {
    const c = createConsumer(kafka, o.groupId, {
      ...(options.kafkaDeps ? { deps: options.kafkaDeps } : {}),
      ...(options.sessionTimeoutMs ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
      ...(options.groupInstanceId ? { groupInstanceId: options.groupInstanceId } : {}),
    });
    consumer = c;
    try {
      await ensureTopicsExist(c, o.topics, o.functionName);
      c.on('consumer:group:join', (payload) => {
        const keep = new Set<string>();
        for (const a of payload.assignments ?? []) for (const p of a.partitions) keep.add(partitionKey(a.topic, p));
        core.resetPartitions(keep);
        logger.info('joined consumer group', { groupId: o.groupId, partitions: [...keep].sort() });
      });
      const s = await c.consume({
        topics: o.topics,
        mode: 'committed',
        fallbackMode: o.startingPosition === 'LATEST' ? 'latest' : 'earliest',
        highWaterMark: Math.max(100, o.batchSize),
      });
      stream = s;
      // Wait until the stream has resolved its starting offsets; before that, LATEST would skip records produced now.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          logger.warn('starting offsets not resolved after 30 s; continuing', { groupId: o.groupId });
          resolve();
        }, 30_000);
        s.once('offsets', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      void pump(s);
    } catch (err) {
      await c.close(true).catch(() => {});
      throw err;
    }
  };

  const pump = async (s: NonNullable<typeof stream>): Promise<void> => {
    try {
      for await (const message of s) {
        core.add(message as unknown as SourceRecord);
        if (core.isFull) await core.waitForSpace();
        if (stopping) break;
      }
    } catch (err) {
      if (stopping) return;
      logger.error('consumer stream failed; reconnecting', { error: describeError(err) });
    }
    if (stopping) return;
    // The stream ended without stop(): reconnect with a fresh consumer, as a Lambda poller would.
    core.resetPartitions();
    await consumer?.close(true).catch(() => {});
    for (let attempt = 1; !stopping; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** (attempt - 1))));
      if (stopping) return;
      try {
        await connect();
        return;
      } catch (err) {
        logger.error('reconnect failed', { attempt, error: describeError(err) });
      }
    }
  };

  try {
    await connect();
  } catch (err) {
    if (ownsProducer) await producer?.close().catch(() => {});
    throw err;
  }
  core.start();
  logger.info('event source mapping started', {
    groupId: o.groupId, topics: o.topics, batchSize: o.batchSize, maxBatchingWindowMs: o.maxBatchingWindowMs,
    maxRetries: o.maxRetries, onFailureTopic: o.onFailureTopic, startingPosition: o.startingPosition,
  });

  let stopped: Promise<void> | undefined;
  return {
    functionName: o.functionName,
    groupId: o.groupId,
    topics: o.topics,
    stats: core.stats,
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        await core.stop();
        await stream?.close().catch((err: unknown) => logger.warn('closing stream failed', { error: describeError(err) }));
        await consumer?.close(true).catch((err: unknown) => logger.warn('closing consumer failed', { error: describeError(err) }));
        if (ownsProducer) await producer?.close().catch(() => {});
        logger.info('event source mapping stopped', { groupId: o.groupId, stats: { ...core.stats } });
      })();
      return stopped;
    },
  };
}
