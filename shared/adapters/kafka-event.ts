/**
 * The Amazon MSK / self-managed Kafka event that Lambda's event source mapping
 * delivers, and the helpers handlers use to read it and to answer with a partial
 * batch response. Shared by the cloud handlers and the local emulator, so both
 * sides agree on one definition.
 */

export type MskTimestampType = 'CREATE_TIME' | 'LOG_APPEND_TIME';

/** One header: `{ name: [byte, ...] }` (AWS sends each header as a single-key object of byte values). */
export type MskRecordHeader = Record<string, number[]>;

export interface MskRecord {
  topic: string;
  partition: number;
  offset: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  timestampType: MskTimestampType;
  /** Base64; absent when the record has no key. */
  key?: string;
  /** Base64; absent for a tombstone (null value). */
  value?: string;
  headers: MskRecordHeader[];
}

export interface MskEvent {
  eventSource: 'aws:kafka' | 'SelfManagedKafka';
  eventSourceArn?: string;
  bootstrapServers: string;
  /** Keyed by `<topic>-<partition>`. */
  records: Record<string, MskRecord[]>;
}

export interface BatchItemIdentifier {
  /** `<topic>-<partition>`, the same string as the key of `event.records`. */
  partition: string;
  offset: number;
}

export interface KafkaBatchResponse {
  batchItemFailures: { itemIdentifier: BatchItemIdentifier }[];
}

export interface DecodedKafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  /** UTF-8 text of the key, or null when the record has none. */
  key: string | null;
  /** UTF-8 text of the value; '' for a tombstone. */
  value: string;
  /** Raw value bytes, or null for a tombstone. */
  valueBytes: Buffer | null;
  headers: Record<string, string>;
  /** What to put in `batchItemFailures` when this record fails. */
  itemIdentifier: BatchItemIdentifier;
}

export class KafkaEventError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'KafkaEventError';
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(path: string, v: unknown): Buffer {
  if (typeof v !== 'string' || v.length % 4 !== 0 || !BASE64.test(v)) throw new KafkaEventError(path, 'expected a base64 string');
  return Buffer.from(v, 'base64');
}

function decodeHeaders(path: string, headers: unknown): Record<string, string> {
  if (!Array.isArray(headers)) throw new KafkaEventError(path, 'expected an array of {name: [bytes]} objects');
  const out: Record<string, string> = {};
  headers.forEach((h: unknown, i) => {
    if (typeof h !== 'object' || h === null || Array.isArray(h)) throw new KafkaEventError(`${path}[${i}]`, 'expected an object');
    for (const [name, bytes] of Object.entries(h)) {
      if (!Array.isArray(bytes) || !bytes.every((b) => Number.isInteger(b) && b >= -128 && b <= 255)) {
        throw new KafkaEventError(`${path}[${i}].${name}`, 'expected an array of byte values');
      }
      // Java-based pollers may emit signed bytes; & 0xff maps them back to 0..255.
      out[name] = Buffer.from(bytes.map((b: number) => b & 0xff)).toString('utf8');
    }
  });
  return out;
}

function requireInt(path: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new KafkaEventError(path, 'expected a non-negative integer');
  return v;
}

/**
 * Validates an MSK event and returns its records decoded, partition by partition
 * (partitions sorted by topic then number, records by offset), which is the
 * order a handler must apply them in. Throws KafkaEventError naming the first
 * offending field.
 */
export function decodeKafkaRecords(event: unknown): DecodedKafkaRecord[] {
  if (typeof event !== 'object' || event === null) throw new KafkaEventError('event', 'expected an object');
  const { records } = event as { records?: unknown };
  if (typeof records !== 'object' || records === null || Array.isArray(records)) {
    throw new KafkaEventError('event.records', 'expected an object keyed by "<topic>-<partition>"');
  }
  const groups: { topic: string; partition: number; records: DecodedKafkaRecord[] }[] = [];
  for (const [groupKey, list] of Object.entries(records)) {
    const gpath = `event.records["${groupKey}"]`;
    if (!Array.isArray(list)) throw new KafkaEventError(gpath, 'expected an array of records');
    const decoded = list.map((r: unknown, i): DecodedKafkaRecord => {
      const path = `${gpath}[${i}]`;
      if (typeof r !== 'object' || r === null) throw new KafkaEventError(path, 'expected an object');
      const rec = r as Record<string, unknown>;
      if (typeof rec.topic !== 'string' || rec.topic === '') throw new KafkaEventError(`${path}.topic`, 'expected a non-empty string');
      const partition = requireInt(`${path}.partition`, rec.partition);
      if (`${rec.topic}-${partition}` !== groupKey) {
        throw new KafkaEventError(path, `topic/partition ${rec.topic}-${partition} does not match its group key "${groupKey}"`);
      }
      const offset = requireInt(`${path}.offset`, rec.offset);
      const timestamp = requireInt(`${path}.timestamp`, rec.timestamp);
      const key = rec.key === undefined || rec.key === null ? null : decodeBase64(`${path}.key`, rec.key).toString('utf8');
      const valueBytes = rec.value === undefined || rec.value === null ? null : decodeBase64(`${path}.value`, rec.value);
      const headers = rec.headers === undefined ? {} : decodeHeaders(`${path}.headers`, rec.headers);
      return {
        topic: rec.topic,
        partition,
        offset,
        timestamp,
        key,
        value: valueBytes ? valueBytes.toString('utf8') : '',
        valueBytes,
        headers,
        itemIdentifier: { partition: groupKey, offset },
      };
    });
    decoded.sort((a, b) => a.offset - b.offset);
    const first = decoded[0];
    if (first) groups.push({ topic: first.topic, partition: first.partition, records: decoded });
  }
  groups.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  return groups.flatMap((g) => g.records);
}

/** Builds the partial batch response; an empty list means the whole batch succeeded. */
export function batchResponse(failed: Iterable<Pick<DecodedKafkaRecord, 'itemIdentifier'>>): KafkaBatchResponse {
  return { batchItemFailures: [...failed].map((r) => ({ itemIdentifier: r.itemIdentifier })) };
}
