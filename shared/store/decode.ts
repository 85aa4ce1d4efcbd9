import { z } from 'zod';
import { TOPICS } from '../config';
import { normalizeSeedRecord, SYMBOL_PATTERN, validatePriceRecord, type FieldError, type PriceRecord, type TypedRecord } from '../schema/records';
import type { StreamRecord } from '../pipeline/ports';

/**
 * Turns raw stream records into what the aggregate store applies, or into a
 * reject with a reason. Pure: the same record always decodes the same way (the
 * time-window check uses the broker's create time as "now"), so a redelivered
 * batch makes exactly the same decisions as its first delivery.
 */

/** Headers are not needed to aggregate, so callers may leave them out. */
export type StreamRecordInput = Omit<StreamRecord, 'headers'>;

export type Tick = { kind: 'tick' } & PriceRecord;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const epochMs = z.number().int('must be an integer (epoch ms)').min(0, 'must be epoch ms >= 0').max(8.64e15, 'is beyond the representable date range');
const symbol = z.string().regex(SYMBOL_PATTERN, 'must be 1-12 characters: A-Z, 0-9, "." or "-"');

const indicatorValue = finite.nullable();

export const publishedSignalSchema = z.object({
  id: z.string().min(1).max(200),
  symbol,
  side: z.enum(['BUY', 'SELL']),
  rule: z.string().min(1).max(64),
  price: finite.positive(),
  barTime: epochMs,
  indicators: z.looseObject({ ma: indicatorValue.optional(), ema: indicatorValue.optional(), rsi: indicatorValue.optional() }),
  reason: z.string().max(1000),
  createdAt: epochMs,
});
export type PublishedSignal = z.infer<typeof publishedSignalSchema>;

export type Decoded =
  | Tick
  | ({ kind: 'signal' } & PublishedSignal)
  | ({ kind: 'event' } & TypedRecord);

export interface Position {
  topic: string;
  partition: number;
  offset: number;
}

export type DecodedItem = Position & ({ ok: true; data: Decoded } | { ok: false; reason: string });

export interface DecodedBatch {
  readonly decoded: true;
  items: DecodedItem[];
}

export interface DecodeTopics {
  ticks: string;
  signals: string;
  events: string;
}

export const DEFAULT_DECODE_TOPICS: DecodeTopics = { ticks: TOPICS.ticks, signals: TOPICS.signals, events: TOPICS.events };

function fieldErrors(errors: readonly FieldError[]): string {
  return errors
    .slice(0, 5)
    .map((e) => `${e.field}: ${e.message}`)
    .join('; ');
}

function issues(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(record)'}: ${i.message}`)
    .join('; ');
}

export function decodeRecord(rec: StreamRecordInput, topics: DecodeTopics = DEFAULT_DECODE_TOPICS): DecodedItem {
  const pos: Position = { topic: rec.topic, partition: rec.partition, offset: rec.offset };
  const fail = (reason: string): DecodedItem => ({ ...pos, ok: false, reason });
  let json: unknown;
  try {
    json = JSON.parse(rec.value);
  } catch {
    return fail(rec.value === '' ? 'empty value (tombstone)' : 'invalid JSON');
  }
  if (rec.topic === topics.ticks) {
    const v = validatePriceRecord(json, { now: rec.timestamp });
    if (!v.ok) return fail(`invalid tick: ${fieldErrors(v.errors)}`);
    const { symbol: s, timestamp, open, high, low, close, volume } = v.value;
    return { ...pos, ok: true, data: { kind: 'tick', symbol: s, timestamp, open, high, low, close, volume } };
  }
  if (rec.topic === topics.signals) {
    const v = publishedSignalSchema.safeParse(json);
    if (!v.success) return fail(`invalid signal: ${issues(v.error)}`);
    return { ...pos, ok: true, data: { kind: 'signal', ...v.data } };
  }
  if (rec.topic === topics.events) {
    if (typeof json !== 'object' || json === null || Array.isArray(json) || !Object.hasOwn(json, 'dataType')) {
      return fail('invalid event: expected a typed record object with a dataType field');
    }
    const v = normalizeSeedRecord(json, { now: rec.timestamp });
    if (!v.ok) return fail(`invalid event: ${fieldErrors(v.errors)}`);
    if (v.kind !== 'typed') return fail('invalid event: expected a typed record');
    return { ...pos, ok: true, data: { kind: 'event', ...v.value } };
  }
  return fail(`unexpected topic "${rec.topic}"`);
}

export function decodeBatch(records: readonly StreamRecordInput[], topics: DecodeTopics = DEFAULT_DECODE_TOPICS): DecodedBatch {
  return { decoded: true, items: records.map((r) => decodeRecord(r, topics)) };
}
