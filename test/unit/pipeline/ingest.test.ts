/**
 * The ingest stage's HTTP contract, on real-shaped API Gateway v2 events, with a
 * publisher that records what would go to Kafka (the stream itself is covered by
 * the integration tests).
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { TOPICS } from '../../../shared/config';
import { INGEST_LIMITS, ingestSeedRecord, ingestTicks } from '../../../shared/pipeline/ingest';
import type { OutMessage, Publisher } from '../../../shared/pipeline/ports';

const fixture = JSON.parse(readFileSync(new URL('../../events/apigw-v2-post-ticks.json', import.meta.url), 'utf8')) as APIGatewayProxyEventV2;
const NOW = Date.parse('2026-11-25T12:00:00Z');

function event(body: string | undefined, headers: Record<string, string> = { 'content-type': 'application/json' }, routeKey = 'POST /ticks'): APIGatewayProxyEventV2 {
  const { 'content-type': _ct, ...rest } = fixture.headers;
  return { ...fixture, routeKey, headers: { ...rest, ...headers }, body, isBase64Encoded: false };
}

class Recording implements Publisher {
  sent: OutMessage[] = [];
  fail = false;
  async publish(messages: OutMessage[]) {
    if (this.fail) throw new Error('broker unreachable at b-1.internal:9098');
    this.sent.push(...messages);
  }
}

const tick = (over: Record<string, unknown> = {}) => ({ symbol: 'AAPL', timestamp: NOW - 60_000, open: 10, high: 11, low: 9.5, close: 10.5, volume: 100, ...over });

async function post(body: unknown, headers?: Record<string, string>) {
  const publisher = new Recording();
  const res = await ingestTicks(event(typeof body === 'string' ? body : JSON.stringify(body), headers), { publisher, now: () => NOW });
  return { res, json: res.body ? JSON.parse(res.body) : undefined, publisher };
}

describe('POST /ticks', () => {
  it('accepts one record and publishes it keyed by symbol', async () => {
    const { res, json, publisher } = await post(tick());
    expect(res.statusCode).toBe(202);
    expect(json).toEqual({ accepted: 1, rejected: [] });
    expect(publisher.sent).toEqual([{ topic: TOPICS.ticks, key: 'AAPL', value: JSON.stringify(tick()) }]);
  });

  it('publishes the good records of a mixed batch and reports the bad ones by index and field', async () => {
    const { res, json, publisher } = await post([tick(), tick({ high: 1 }), tick({ symbol: 'MSFT' }), { symbol: 'bad sym' }]);
    expect(res.statusCode).toBe(202);
    expect(json.accepted).toBe(2);
    expect(json.rejected.map((r: { index: number }) => r.index)).toEqual([1, 3]);
    expect(json.rejected[0].errors.map((e: { field: string }) => e.field)).toContain('high');
    expect(publisher.sent.map((m) => m.key)).toEqual(['AAPL', 'MSFT']);
  });

  it('answers 400 with the same body shape when every record is invalid', async () => {
    const { res, json, publisher } = await post([{ symbol: 'X' }, 42]);
    expect(res.statusCode).toBe(400);
    expect(json.accepted).toBe(0);
    expect(json.rejected).toHaveLength(2);
    expect(publisher.sent).toHaveLength(0);
  });

  it.each([
    ['malformed JSON', '{"symbol": ', { 'content-type': 'application/json' }, 400, 'malformed_json'],
    ['an empty body', '', { 'content-type': 'application/json' }, 400, 'empty_body'],
    ['a wrong content type', JSON.stringify(tick()), { 'content-type': 'text/plain' }, 415, 'unsupported_media_type'],
    ['no content type', JSON.stringify(tick()), {}, 415, 'unsupported_media_type'],
    ['an empty array', '[]', { 'content-type': 'application/json' }, 400, 'empty_batch'],
  ])('refuses %s with a specific JSON error', async (_what, body, headers, status, code) => {
    const { res, json, publisher } = await post(body, headers);
    expect(res.statusCode).toBe(status);
    expect(json.error.code).toBe(code);
    expect(json.error.message.length).toBeGreaterThan(10);
    expect(publisher.sent).toHaveLength(0);
  });

  it('refuses more than 1,000 records and bodies over 1 MB', async () => {
    const many = await post(Array.from({ length: INGEST_LIMITS.maxRecords + 1 }, () => tick()));
    expect(many.res.statusCode).toBe(400);
    expect(many.json.error.code).toBe('too_many_records');
    const big = await post(JSON.stringify({ ...tick(), pad: 'x'.repeat(INGEST_LIMITS.maxBodyBytes) }));
    expect(big.res.statusCode).toBe(413);
  });

  it('answers 503 with Retry-After, without internal details, when the stream is down', async () => {
    const publisher = new Recording();
    publisher.fail = true;
    const res = await ingestTicks(event(JSON.stringify(tick())), { publisher, now: () => NOW });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body).not.toContain('b-1.internal');
  });
});

describe('POST /ingest', () => {
  const seedTick = { stock_symbol: 'AAPL', opening_price: 10, closing_price: 10.5, high: 11, low: 9.5, volume: 100, timestamp: (NOW - 60_000) / 1000 };
  const ingest = async (body: unknown) => {
    const publisher = new Recording();
    const res = await ingestSeedRecord(event(JSON.stringify(body), undefined, 'POST /ingest'), { publisher, now: () => NOW });
    return { res, publisher };
  };

  it('answers 200 and sends seed price records to the ticks topic, normalized', async () => {
    const { res, publisher } = await ingest(seedTick);
    expect(res.statusCode).toBe(200);
    expect(publisher.sent).toHaveLength(1);
    expect(publisher.sent[0]!.topic).toBe(TOPICS.ticks);
    expect(JSON.parse(publisher.sent[0]!.value)).toEqual({ symbol: 'AAPL', timestamp: NOW - 60_000, open: 10, high: 11, low: 9.5, close: 10.5, volume: 100 });
  });

  it('sends typed records to the events topic, keyed by symbol or indicator name', async () => {
    const a = await ingest({ data_type: 'news_sentiment', stock_symbol: 'AAPL', timestamp: NOW / 1000, sentiment_score: 0.4, sentiment_magnitude: 0.7 });
    const b = await ingest({ data_type: 'economic_indicator', indicator_name: 'GDP Growth Rate', timestamp: NOW / 1000, value: 2.1 });
    expect([a.res.statusCode, b.res.statusCode]).toEqual([200, 200]);
    expect(a.publisher.sent[0]).toMatchObject({ topic: TOPICS.events, key: 'AAPL' });
    expect(b.publisher.sent[0]).toMatchObject({ topic: TOPICS.events, key: 'GDP Growth Rate' });
  });

  it('refuses arrays and invalid records with field errors', async () => {
    expect((await ingest([seedTick])).res.statusCode).toBe(400);
    const bad = await ingest({ ...seedTick, high: 1 });
    expect(bad.res.statusCode).toBe(400);
    expect(JSON.parse(bad.res.body!).error.fields.length).toBeGreaterThan(0);
  });
});

describe('hostile input (fast-check)', () => {
  const hostileValue = fc.oneof(
    fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e309', '-0', '', '\u0000', '\u202e', 'A\u0007B', '__proto__'),
    fc.double(),
    fc.bigInt().map((b) => b.toString()),
    fc.string({ unit: 'binary' }),
    fc.constant(null),
  );
  const hostileRecord = fc.dictionary(fc.oneof(fc.constantFrom('symbol', 'timestamp', 'open', 'high', 'low', 'close', 'volume', '__proto__', 'constructor'), fc.string()), hostileValue);
  const deepNest = fc.integer({ min: 1, max: 5000 }).map((d) => '['.repeat(d) + ']'.repeat(d));

  it('never answers 5xx or throws, and always answers JSON', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.array(hostileRecord, { maxLength: 20 }).map((a) => JSON.stringify(a)),
          hostileRecord.map((r) => JSON.stringify(r)),
          deepNest,
          fc.string({ unit: 'binary' }),
          fc.constant('{"symbol":"AAPL","symbol":"MSFT","__proto__":{"polluted":1}}'),
          fc.constant(JSON.stringify(Array.from({ length: 10_000 }, () => 1))),
          fc.constant(JSON.stringify({ symbol: 'x'.repeat(1_000_000) })),
        ),
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/json', 'application/x-www-form-urlencoded', ''),
        async (body, contentType) => {
          const publisher = new Recording();
          const res = await ingestTicks(event(body, contentType ? { 'content-type': contentType } : {}), { publisher, now: () => NOW });
          expect(res.statusCode).toBeGreaterThanOrEqual(200);
          expect(res.statusCode).toBeLessThan(500);
          expect(() => JSON.parse(res.body!)).not.toThrow();
          if (res.statusCode >= 400) expect(publisher.sent).toHaveLength(0);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('accepts the valid records hidden among hostile ones, and only those', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(hostileRecord, fc.constant(tick())), { minLength: 1, maxLength: 50 }), async (batch) => {
        const publisher = new Recording();
        const res = await ingestTicks(event(JSON.stringify(batch)), { publisher, now: () => NOW });
        const good = batch.filter((r) => JSON.stringify(r) === JSON.stringify(tick())).length;
        expect(publisher.sent).toHaveLength(good);
        expect(res.statusCode).toBe(good > 0 ? 202 : 400);
      }),
      { numRuns: 200 },
    );
  });
});
