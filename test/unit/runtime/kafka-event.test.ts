import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { batchResponse, decodeKafkaRecords, KafkaEventError, type MskEvent } from '../../../shared/adapters/kafka-event';
import { buildMskEvent, type SourceRecord } from '../../../local/runtime/kafka-event';
import { shapeOf } from './shape';

const fixture = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../events/msk-event.json'), 'utf8')) as MskEvent;

function rec(over: Partial<SourceRecord> = {}): SourceRecord {
  return {
    topic: 'market.ticks',
    partition: 0,
    offset: 0n,
    timestamp: 1_700_000_000_000n,
    key: Buffer.from('AAPL'),
    value: Buffer.from('{"p":1}'),
    headers: new Map([[Buffer.from('source'), Buffer.from('feed')]]),
    ...over,
  };
}

describe('MSK event built by the emulator', () => {
  it('has exactly the key sets and value types of the documented AWS sample', () => {
    // Header names are data too; use the sample's so the structures line up.
    const built = buildMskEvent([rec({ headers: [['headerKey', 'headerValue']] })], { bootstrapServers: ['localhost:9092'] });
    const [groupKey] = Object.keys(built.records);
    const [fixtureKey] = Object.keys(fixture.records);
    // Group keys are data (topic-partition), so compare the shapes under them.
    expect(shapeOf({ ...built, records: { g: built.records[groupKey!] } })).toEqual(shapeOf({ ...fixture, records: { g: fixture.records[fixtureKey!] } }));
    expect(groupKey).toBe('market.ticks-0');
  });

  it('groups by <topic>-<partition>, keeps the given order, and encodes key/value/headers like AWS', () => {
    const built = buildMskEvent(
      [rec({ partition: 1, offset: 7n }), rec({ partition: 0, offset: 3n }), rec({ partition: 1, offset: 8n, key: null, value: null, headers: [] })],
      { bootstrapServers: ['b1:9092', 'b2:9092'], eventSourceArn: 'arn:aws:kafka:eu-west-1:1:cluster/x/y' },
    );
    expect(built.bootstrapServers).toBe('b1:9092,b2:9092');
    expect(built.eventSourceArn).toBe('arn:aws:kafka:eu-west-1:1:cluster/x/y');
    expect(Object.keys(built.records)).toEqual(['market.ticks-1', 'market.ticks-0']);
    expect(built.records['market.ticks-1']!.map((r) => r.offset)).toEqual([7, 8]);
    const first = built.records['market.ticks-1']![0]!;
    expect(first.key).toBe('QUFQTA=='); // base64("AAPL")
    expect(first.value).toBe('eyJwIjoxfQ=='); // base64('{"p":1}')
    expect(first.headers).toEqual([{ source: [102, 101, 101, 100] }]); // "feed"
    expect(first.timestamp).toBe(1_700_000_000_000);
    const tombstone = built.records['market.ticks-1']![1]!;
    expect('key' in tombstone).toBe(false);
    expect('value' in tombstone).toBe(false);
  });
});

describe('decodeKafkaRecords', () => {
  it('decodes the documented AWS sample', () => {
    const [r, ...rest] = decodeKafkaRecords(fixture);
    expect(rest).toHaveLength(0);
    expect(r).toEqual({
      topic: 'mytopic',
      partition: 0,
      offset: 15,
      timestamp: 1545084650987,
      key: 'recordKey', // base64 "cmVjb3JkS2V5"
      value: '{"key":"value"}', // base64 "eyJrZXkiOiJ2YWx1ZSJ9"
      valueBytes: Buffer.from('{"key":"value"}'),
      headers: { headerKey: 'headerValue' }, // bytes 104,101,97,100,101,114,86,97,108,117,101
      itemIdentifier: { partition: 'mytopic-0', offset: 15 },
    });
  });

  it('round-trips what the emulator builds, partitions sorted, records by offset', () => {
    const built = buildMskEvent([rec({ topic: 'b', partition: 2, offset: 9n }), rec({ topic: 'a', partition: 10, offset: 2n }), rec({ topic: 'a', partition: 2, offset: 5n }), rec({ topic: 'a', partition: 2, offset: 4n })], { bootstrapServers: ['x:1'] });
    const decoded = decodeKafkaRecords(built);
    expect(decoded.map((d) => `${d.topic}-${d.partition}@${d.offset}`)).toEqual(['a-2@4', 'a-2@5', 'a-10@2', 'b-2@9']);
    expect(decoded[0]).toMatchObject({ key: 'AAPL', value: '{"p":1}', headers: { source: 'feed' } });
  });

  it('treats a missing value as a tombstone and a missing key as null', () => {
    const [r] = decodeKafkaRecords(buildMskEvent([rec({ key: null, value: null })], { bootstrapServers: ['x:1'] }));
    expect(r).toMatchObject({ key: null, value: '', valueBytes: null });
  });

  it.each([
    [null, 'event: expected an object'],
    [{ records: [] }, 'event.records: expected an object'],
    [{ records: { 't-0': {} } }, 'event.records["t-0"]: expected an array'],
    [{ records: { 't-0': [{ topic: 't', partition: 1, offset: 0, timestamp: 0, value: '', headers: [] }] } }, 'does not match its group key'],
    [{ records: { 't-0': [{ topic: 't', partition: 0, offset: -1, timestamp: 0, headers: [] }] } }, 'event.records["t-0"][0].offset: expected a non-negative integer'],
    [{ records: { 't-0': [{ topic: 't', partition: 0, offset: 0, timestamp: 0, value: 'not base64!', headers: [] }] } }, 'event.records["t-0"][0].value: expected a base64 string'],
    [{ records: { 't-0': [{ topic: 't', partition: 0, offset: 0, timestamp: 0, headers: [{ h: 'x' }] }] } }, 'event.records["t-0"][0].headers[0].h: expected an array of byte values'],
  ])('rejects %j with a message naming the field', (event, message) => {
    expect(() => decodeKafkaRecords(event)).toThrow(KafkaEventError);
    expect(() => decodeKafkaRecords(event)).toThrow(message);
  });

  it('builds partial batch responses from decoded records', () => {
    const [r] = decodeKafkaRecords(fixture);
    expect(batchResponse([r!])).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 'mytopic-0', offset: 15 } }] });
    expect(batchResponse([])).toEqual({ batchItemFailures: [] });
  });
});
