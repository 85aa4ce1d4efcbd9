import { PublishBatchCommand, type PublishBatchRequestEntry, type SNSClient } from '@aws-sdk/client-sns';
import type { Topics } from '../config';
import { keys, type RedisClient } from '../adapters/redis';
import type { PublishedSignal } from './signal';
import { deadLetterMessage } from './dead-letter';
import type { BatchItemFailure, Publisher, StreamRecord } from './ports';

/**
 * Stage 5: signals → SNS, with message attributes `symbol`, `side` and `rule` so
 * subscription filter policies select by them.
 *
 * A marker per signal id is written after SNS accepts the message; a signal whose
 * marker exists is not published again. The one window for a duplicate is a process
 * dying after SNS accepted the message and before the marker is written: the batch
 * is redelivered and that signal is published a second time. Nothing is lost: a
 * failed publish fails the record (partial batch response) and everything after it
 * in its partition, which the event source mapping redelivers.
 */

export interface NotifyDeps {
  sns: SNSClient;
  redis: RedisClient;
  topicArn: string;
  /** Where records that are not signals at all go; they can never succeed. */
  deadLetters: Publisher;
  topics?: Topics;
}

export interface NotifyResult {
  published: string[];
  alreadyNotified: number;
  deadLettered: number;
  batchItemFailures: BatchItemFailure[];
}

/** Markers outlive any redelivery of a signal by far. */
const MARKER_TTL_SECONDS = 30 * 24 * 3600;
const STAGE = 'notify';

export async function notifySignals(records: StreamRecord[], deps: NotifyDeps): Promise<NotifyResult> {
  const result: NotifyResult = { published: [], alreadyNotified: 0, deadLettered: 0, batchItemFailures: [] };
  const items: { record: StreamRecord; signal: PublishedSignal }[] = [];
  const dead = [];
  for (const record of records) {
    try {
      const signal = JSON.parse(record.value) as PublishedSignal;
      if (typeof signal?.id !== 'string' || typeof signal.symbol !== 'string' || (signal.side !== 'BUY' && signal.side !== 'SELL')) throw new Error('not a signal');
      items.push({ record, signal });
    } catch (err) {
      dead.push(deadLetterMessage({ record, reason: `invalid signal: ${(err as Error).message}`, stage: STAGE }, deps.topics));
    }
  }
  if (dead.length) await deps.deadLetters.publish(dead);
  result.deadLettered = dead.length;

  const seen = await Promise.all(items.map(({ signal }) => deps.redis.exists(keys.notified(signal.symbol, signal.id))));
  const pending = items.filter((_, i) => {
    if (seen[i]) result.alreadyNotified++;
    return !seen[i];
  });
  // The same signal can appear twice in one batch after an upstream replay.
  const unique = [...new Map(pending.map((p) => [p.signal.id, p])).values()];

  const failed: StreamRecord[] = [];
  for (let i = 0; i < unique.length; i += 10) {
    const chunk = unique.slice(i, i + 10);
    let failedIds = new Set<string>();
    try {
      const res = await deps.sns.send(new PublishBatchCommand({ TopicArn: deps.topicArn, PublishBatchRequestEntries: chunk.map((c, j) => entry(c.signal, j)) }));
      failedIds = new Set((res.Failed ?? []).map((f) => f.Id ?? ''));
    } catch {
      failedIds = new Set(chunk.map((_, j) => `e${j}`));
    }
    const ok = chunk.filter((_, j) => !failedIds.has(`e${j}`));
    await Promise.all(ok.map(({ signal }) => deps.redis.set(keys.notified(signal.symbol, signal.id), '1', 'EX', MARKER_TTL_SECONDS)));
    result.published.push(...ok.map((c) => c.signal.id));
    failed.push(...chunk.filter((_, j) => failedIds.has(`e${j}`)).map((c) => c.record));
  }
  result.batchItemFailures = lowestFailurePerPartition(failed);
  return result;
}

/** The event source mapping redelivers a partition from the lowest reported offset on. */
export function lowestFailurePerPartition(failed: StreamRecord[]): BatchItemFailure[] {
  const lowest = new Map<string, number>();
  for (const r of failed) {
    const id = `${r.topic}-${r.partition}`;
    lowest.set(id, Math.min(lowest.get(id) ?? Infinity, r.offset));
  }
  return [...lowest].map(([partition, offset]) => ({ itemIdentifier: { partition, offset } }));
}

function entry(s: PublishedSignal, j: number): PublishBatchRequestEntry {
  const text = humanMessage(s);
  const machine = JSON.stringify(s);
  return {
    Id: `e${j}`,
    Subject: `${s.side} ${s.symbol} at ${s.price}`.slice(0, 99),
    // One message, rendered per protocol: people read email and SMS, programs read JSON.
    MessageStructure: 'json',
    Message: JSON.stringify({ default: text, email: text, sms: text.slice(0, 140), 'email-json': machine, http: machine, https: machine, sqs: machine, lambda: machine }),
    MessageAttributes: {
      symbol: { DataType: 'String', StringValue: s.symbol },
      side: { DataType: 'String', StringValue: s.side },
      rule: { DataType: 'String', StringValue: s.rule },
    },
  };
}

export function humanMessage(s: PublishedSignal): string {
  return `${s.side} ${s.symbol} @ ${s.price} (${s.rule}, bar ${new Date(s.barTime).toISOString()}): ${s.reason}`;
}
