/**
 * The local twin of the CDK function/trigger wiring: which handler runs for
 * which topics, with which batching and retry settings. The supervisor starts
 * one worker process per entry.
 *
 * AWS allows exactly one topic per Kafka event source mapping, so a function fed
 * by several topics (aggregate) has one mapping per topic here too, and the
 * infra must create one ManagedKafkaEventSource per topic.
 */
import { TOPICS } from '../../shared/config';

export interface EventSourceDefinition {
  topics: string[];
  batchSize: number;
  maxBatchingWindowMs: number;
  maxRetries: number;
  retryBackoffMs?: number;
  maxRetryBackoffMs?: number;
  bisectBatchOnError?: boolean;
  reportBatchItemFailures?: boolean;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** null disables the on-failure destination. Default market.dlq. */
  onFailureTopic?: string | null;
  groupId?: string;
  concurrency?: number;
}

export interface FunctionDefinition {
  name: string;
  /** Module exporting `handler`, relative to the repository root (or absolute). */
  handlerModule: string;
  eventSources: EventSourceDefinition[];
  /** Lambda function timeout. */
  timeoutMs: number;
  /** Lambda reserved concurrency: caps invocations across all of the function's mappings. */
  reservedConcurrency?: number;
  /** Extra environment for the worker, as the function's Lambda environment variables. */
  environment?: Record<string, string>;
}

export interface HttpFunctionDefinition {
  name: string;
  handlerModule: string;
  /** API Gateway route keys served by this function. */
  routes: string[];
  timeoutMs: number;
}

/** Built on demand so TOPIC_NAMESPACE set by a test or the chaos harness is honoured. */
export function streamFunctions(): FunctionDefinition[] {
  // 10 retries backing off to 10 s: about a minute of retrying, which rides out a 30 s Redis or SNS outage
  // (the chaos harness's redis-down and sns-down) instead of sending the batch to the dead-letter topic.
  const common = { maxRetries: 10, retryBackoffMs: 250, maxRetryBackoffMs: 10_000, reportBatchItemFailures: true, startingPosition: 'TRIM_HORIZON' as const };
  return [
    {
      name: 'process',
      handlerModule: 'functions/process/handler.ts',
      timeoutMs: 60_000,
      eventSources: [{ ...common, topics: [TOPICS.ticks], batchSize: 500, maxBatchingWindowMs: 100 }],
    },
    {
      name: 'signal',
      handlerModule: 'functions/signal/handler.ts',
      timeoutMs: 60_000,
      // No window: indicator bars arrive in bursts (one per process batch), so a window only delays each burst by its full
      // length; the invocation time itself batches whatever arrives meanwhile (bench:pipeline, tick → signal p99 222 → 125 ms).
      eventSources: [{ ...common, topics: [TOPICS.indicators], batchSize: 500, maxBatchingWindowMs: 0 }],
    },
    {
      name: 'notify',
      handlerModule: 'functions/notify/handler.ts',
      timeoutMs: 60_000,
      // Signals are few; waiting to batch them only delays the notification.
      eventSources: [{ ...common, topics: [TOPICS.signals], batchSize: 100, maxBatchingWindowMs: 0 }],
    },
    {
      name: 'aggregate',
      handlerModule: 'functions/aggregate/handler.ts',
      timeoutMs: 60_000,
      // SQLite allows one writer: one invocation at a time across the three mappings.
      reservedConcurrency: 1,
      eventSources: [TOPICS.ticks, TOPICS.signals, TOPICS.events].map((topic) => ({
        ...common, topics: [topic], batchSize: 1000, maxBatchingWindowMs: 500,
      })),
    },
  ];
}

export function httpFunctions(): HttpFunctionDefinition[] {
  return [
    { name: 'ingest', handlerModule: 'functions/ingest/handler.ts', timeoutMs: 29_000, routes: ['POST /ticks', 'POST /ingest'] },
    {
      name: 'api',
      handlerModule: 'functions/api/handler.ts',
      timeoutMs: 29_000,
      routes: [
        'GET /health', 'GET /symbols', 'GET /symbols/{symbol}', 'GET /symbols/{symbol}/bars', 'GET /signals',
        'GET /market/overview', 'GET /openapi.json', 'POST /subscriptions', 'GET /subscriptions/{id}',
        'DELETE /subscriptions/{id}', 'GET /', 'GET /assets/{proxy+}',
      ],
    },
  ];
}

export function findStreamFunction(name: string): FunctionDefinition {
  const all = streamFunctions();
  const fn = all.find((f) => f.name === name);
  if (!fn) throw new Error(`Unknown stream function "${name}"; known: ${all.map((f) => f.name).join(', ')}`);
  return fn;
}
