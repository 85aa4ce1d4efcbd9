import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MskEvent, MskRecord } from '../../../shared/adapters/kafka-event';
import { TOPICS } from '../../../shared/config';
import { openStore, type Db } from '../../../shared/store/db';
import type { StreamRecordInput } from '../../../shared/store/decode';
import { queryBars } from '../../../shared/store/queries';
import { dump, eventRecord, signalRecord, T0, tempDir, tickRecord } from './helpers';

/** The aggregate Lambda handler itself, fed MSK-shaped events, against a real SQLite file. */

const tmp = tempDir('aggregate-handler-');
const path = tmp.file('market.db');
let handler: (event: unknown) => Promise<{ batchItemFailures: unknown[] }>;
let reader: Db;

beforeAll(async () => {
  process.env.SQLITE_PATH = path;
  process.env.LOG_LEVEL = 'WARN';
  ({ handler } = (await import('../../../functions/aggregate/handler')) as { handler: typeof handler });
});
afterAll(() => tmp.cleanup());

function mskEvent(records: StreamRecordInput[]): MskEvent {
  const groups: Record<string, MskRecord[]> = {};
  for (const r of records) {
    (groups[`${r.topic}-${r.partition}`] ??= []).push({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      timestampType: 'CREATE_TIME',
      ...(r.key === null ? {} : { key: Buffer.from(r.key).toString('base64') }),
      value: Buffer.from(r.value).toString('base64'),
      headers: [],
    });
  }
  return { eventSource: 'aws:kafka', bootstrapServers: 'localhost:9092', records: groups };
}

const batch = [
  tickRecord(0, { ts: T0, p: 100, v: 2 }),
  tickRecord(1, { ts: T0 + 30_000, p: 104, v: 2 }),
  signalRecord(0, { id: 'TST:rsi-threshold:1', barTime: T0 }),
  eventRecord(0, { dataType: 'economic_indicator', indicatorName: 'CPI', timestamp: T0, value: 3.1 }),
];

describe('functions/aggregate/handler', () => {
  it('writes one batch and reports no failures', async () => {
    await expect(handler(mskEvent(batch))).resolves.toEqual({ batchItemFailures: [] });
    reader = openStore(path, { readonly: true });
    expect(queryBars(reader, { symbol: 'TST', interval: '1m', order: 'asc', limit: 5 }).items).toEqual([
      { time: T0, open: 100, high: 104, low: 100, close: 104, volume: 4, vwap: 102, trades: 2 },
    ]);
  });

  it('changes nothing when the event source mapping redelivers the batch', async () => {
    const before = dump(reader);
    await expect(handler(mskEvent(batch))).resolves.toEqual({ batchItemFailures: [] });
    expect(dump(reader)).toEqual(before);
    expect(dump(reader).consumer_offsets!.map((r) => (r as { topic: string }).topic).sort()).toEqual([TOPICS.events, TOPICS.signals, TOPICS.ticks].sort());
  });

  it('fails loudly on an event that is not an MSK event, naming the field', async () => {
    await expect(handler({ records: { 'x-0': [{ topic: 'x', partition: 0, offset: -1 }] } })).rejects.toThrow(/offset/);
  });
});
