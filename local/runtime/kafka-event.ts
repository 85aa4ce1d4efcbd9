/**
 * Builds the event Lambda's Kafka event source mapping hands to a function, from
 * records read off a real broker. The shape follows the Amazon MSK event in the
 * Lambda developer guide (test/events/msk-event.json).
 */
import type { MskEvent, MskRecord, MskRecordHeader } from '../../shared/adapters/kafka-event';

/** A record as the emulator holds it: client-library independent. */
export interface SourceRecord {
  topic: string;
  partition: number;
  offset: bigint;
  /** Milliseconds since the epoch. */
  timestamp: bigint;
  key: Buffer | null | undefined;
  value: Buffer | null | undefined;
  headers: Iterable<[Buffer | string, Buffer | string | null | undefined]>;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** A stable ARN per local cluster so handlers that log or route on it see something realistic. */
export function localClusterArn(region = process.env.AWS_REGION ?? 'us-east-1', accountId = '000000000000', clusterName = 'local'): string {
  return `arn:aws:kafka:${region}:${accountId}:cluster/${clusterName}/00000000-0000-0000-0000-000000000000-1`;
}

function toBytes(v: Buffer | string | null | undefined): number[] {
  if (v === null || v === undefined) return [];
  return [...(typeof v === 'string' ? Buffer.from(v, 'utf8') : v)];
}

export function toMskRecord(r: SourceRecord): MskRecord {
  const headers: MskRecordHeader[] = [];
  for (const [name, value] of r.headers) {
    headers.push({ [typeof name === 'string' ? name : name.toString('utf8')]: toBytes(value) });
  }
  // Same key order as the AWS sample, so dumped events diff cleanly against it.
  return {
    topic: r.topic,
    partition: r.partition,
    offset: Number(r.offset),
    timestamp: Number(r.timestamp),
    timestampType: 'CREATE_TIME',
    ...(r.key ? { key: r.key.toString('base64') } : {}),
    ...(r.value ? { value: r.value.toString('base64') } : {}),
    headers,
  };
}

export interface BuildMskEventOptions {
  eventSourceArn?: string;
  /** Broker list as `host:port` strings; joined with commas as AWS does. */
  bootstrapServers: string[];
}

/** Groups records by `<topic>-<partition>` keeping their given order inside each group. */
export function buildMskEvent(records: readonly SourceRecord[], opts: BuildMskEventOptions): MskEvent {
  const grouped: Record<string, MskRecord[]> = {};
  for (const r of records) {
    const key = partitionKey(r.topic, r.partition);
    (grouped[key] ??= []).push(toMskRecord(r));
  }
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: opts.eventSourceArn ?? localClusterArn(),
    bootstrapServers: opts.bootstrapServers.join(','),
    records: grouped,
  };
}

/** Rough JSON size of one record in an event, used to honour Lambda's 6 MB invoke payload limit. */
export function estimateRecordEventBytes(r: SourceRecord): number {
  const b64 = (n: number): number => Math.ceil(n / 3) * 4;
  let size = 160 + r.topic.length + b64(r.key?.length ?? 0) + b64(r.value?.length ?? 0);
  for (const [name, value] of r.headers) size += 8 + name.length + 4 * (value?.length ?? 0);
  return size;
}
