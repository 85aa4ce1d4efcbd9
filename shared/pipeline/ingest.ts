import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { TOPICS, type Topics } from '../config';
import { httpError, json, parseJsonBody, type FieldError, type HttpResult } from '../http/response';
import { normalizeSeedRecord, validatePriceRecord, type PriceRecord, type TypedRecord } from '../schema/records';
import type { OutMessage, Publisher } from './ports';

/**
 * Stage 2: HTTP → Kafka. Each good record is published keyed by its symbol, so one
 * symbol always lands in one partition and is processed in order. Bad records are
 * reported by index with field-level errors; they never stop the good ones.
 */

export const INGEST_LIMITS = { maxBodyBytes: 1_048_576, maxRecords: 1000 } as const;

export interface IngestDeps {
  publisher: Publisher;
  now?: () => number;
  topics?: Topics;
}

export function tickMessage(r: PriceRecord, topics: Topics = TOPICS): OutMessage {
  return { topic: topics.ticks, key: r.symbol, value: JSON.stringify(r) };
}

export function eventMessage(r: TypedRecord, topics: Topics = TOPICS): OutMessage {
  const key = 'symbol' in r ? r.symbol : r.indicatorName;
  return { topic: topics.events, key, value: JSON.stringify(r) };
}

/** `POST /ticks`: one record or an array of up to 1,000. */
export async function ingestTicks(event: APIGatewayProxyEventV2, deps: IngestDeps): Promise<HttpResult> {
  const body = parseJsonBody(event, { maxBytes: INGEST_LIMITS.maxBodyBytes });
  if (!body.ok) return body.response;
  const batch = Array.isArray(body.value) ? body.value : [body.value];
  if (batch.length === 0) return httpError(400, 'empty_batch', 'Expected a record or a non-empty array of records');
  if (batch.length > INGEST_LIMITS.maxRecords) {
    return httpError(400, 'too_many_records', `A batch holds at most ${INGEST_LIMITS.maxRecords} records; got ${batch.length}`);
  }
  const now = (deps.now ?? Date.now)();
  const accepted: PriceRecord[] = [];
  const rejected: { index: number; errors: FieldError[] }[] = [];
  batch.forEach((item, index) => {
    const v = validatePriceRecord(item, { now });
    if (v.ok) accepted.push(v.value);
    else rejected.push({ index, errors: v.errors });
  });
  if (accepted.length === 0) return json(400, { accepted: 0, rejected, error: { code: 'invalid_records', message: `All ${batch.length} records are invalid` } });
  const failure = await publishOr503(deps.publisher, accepted.map((r) => tickMessage(r, deps.topics)));
  if (failure) return failure;
  return json(202, { accepted: accepted.length, rejected });
}

/**
 * `POST /ingest`: the seed data generator's records, one JSON object per request,
 * exactly as that client sends them. It treats anything but 200 as a failure.
 */
export async function ingestSeedRecord(event: APIGatewayProxyEventV2, deps: IngestDeps): Promise<HttpResult> {
  const body = parseJsonBody(event, { maxBytes: INGEST_LIMITS.maxBodyBytes });
  if (!body.ok) return body.response;
  if (Array.isArray(body.value)) return httpError(400, 'expected_object', 'POST /ingest takes one JSON object per request; use POST /ticks for batches');
  const r = normalizeSeedRecord(body.value, { now: (deps.now ?? Date.now)() });
  if (!r.ok) return httpError(400, 'invalid_record', 'The record is invalid', r.errors);
  const msg = r.kind === 'price' ? tickMessage(r.value, deps.topics) : eventMessage(r.value, deps.topics);
  const failure = await publishOr503(deps.publisher, [msg]);
  if (failure) return failure;
  return json(200, { accepted: 1, kind: r.kind, topic: msg.topic });
}

async function publishOr503(publisher: Publisher, messages: OutMessage[]): Promise<HttpResult | undefined> {
  try {
    await publisher.publish(messages);
    return undefined;
  } catch (err) {
    // The stream is unavailable: nothing was lost on our side, the client retries.
    return { ...httpError(503, 'stream_unavailable', `Could not publish to the stream (${(err as Error).name}); retry later`), headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' } };
  }
}
