import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DLQ_HEADERS } from '../../../shared/adapters/kafka';
import { TOPICS } from '../../../shared/config';
import type { OutMessage } from '../../../shared/pipeline/ports';
import { applyBatch } from '../../../shared/store/aggregate';
import type { Db } from '../../../shared/store/db';
import {
  getOrderBookTop,
  latestDailyStats,
  latestEconomicIndicators,
  queryBars,
  querySignals,
  signalCounts,
  type BarOut,
} from '../../../shared/store/queries';
import { aggregateRecords } from '../../../shared/store/stage';
import { dump, eventRecord, KAFKA_TS, openKept, raw, signalRecord, T0, tempDir, tickRecord } from './helpers';

const tmp = tempDir('queries-');
afterAll(() => tmp.cleanup());

const MIN = 60_000;
const DAY = 86_400_000;
let db: Db;

beforeAll(() => {
  db = openKept(tmp.file());
  // One tick per minute for ten minutes: ten 1m bars whose close is 100 + i.
  applyBatch(db, Array.from({ length: 10 }, (_, i) => tickRecord(i, { ts: T0 + i * MIN, p: 100 + i, v: 1 })));
  applyBatch(db, [
    signalRecord(0, { id: 'a', side: 'BUY', rule: 'rsi-threshold', barTime: T0, createdAt: KAFKA_TS }),
    signalRecord(1, { id: 'b', side: 'SELL', rule: 'rsi-threshold', barTime: T0 + MIN, createdAt: KAFKA_TS }),
    signalRecord(2, { id: 'c', side: 'BUY', rule: 'ema-ma-crossover', barTime: T0 + MIN, createdAt: KAFKA_TS }),
    signalRecord(3, { id: 'd', side: 'SELL', rule: 'ema-ma-crossover', barTime: T0 + 2 * MIN, createdAt: KAFKA_TS - 2 * DAY, symbol: 'OTHER' }),
  ]);
});

function walk(order: 'asc' | 'desc', limit: number, from?: number, to?: number): { pages: number[][] } {
  const pages: number[][] = [];
  let after: number | undefined;
  for (;;) {
    const page = queryBars(db, { symbol: 'TST', interval: '1m', order, limit, from, to, after });
    pages.push(page.items.map((b: BarOut) => (b.time - T0) / MIN));
    if (page.next === null) break;
    after = page.next;
  }
  return { pages };
}

describe('queryBars', () => {
  it('pages forward with keyset cursors and ends with no next key', () => {
    expect(walk('asc', 3).pages).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
  });

  it('pages backward from the newest bar', () => {
    expect(walk('desc', 4).pages).toEqual([[9, 8, 7, 6], [5, 4, 3, 2], [1, 0]]);
  });

  it('treats from as inclusive and to as exclusive', () => {
    expect(walk('asc', 100, T0 + 2 * MIN, T0 + 5 * MIN).pages).toEqual([[2, 3, 4]]);
    expect(walk('desc', 2, T0 + 2 * MIN, T0 + 5 * MIN).pages).toEqual([[4, 3], [2]]);
  });

  it('returns the bar values', () => {
    const page = queryBars(db, { symbol: 'TST', interval: '5m', order: 'asc', limit: 10 });
    expect(page.items).toEqual([
      { time: T0, open: 100, high: 104, low: 100, close: 104, volume: 5, vwap: 102, trades: 5 },
      { time: T0 + 5 * MIN, open: 105, high: 109, low: 105, close: 109, volume: 5, vwap: 107, trades: 5 },
    ]);
  });

  it('treats hostile text as data, not SQL', () => {
    expect(queryBars(db, { symbol: "TST' OR '1'='1", interval: '1m', order: 'asc', limit: 10 }).items).toEqual([]);
  });
});

describe('querySignals', () => {
  it('lists newest first by (barTime, id) and pages with the same order', () => {
    const first = querySignals(db, { limit: 2 });
    expect(first.items.map((s) => s.id)).toEqual(['d', 'c']);
    expect(first.next).toEqual({ barTime: T0 + MIN, id: 'c' });
    const second = querySignals(db, { limit: 2, after: first.next! });
    expect(second.items.map((s) => s.id)).toEqual(['b', 'a']);
    expect(second.next).toBeNull();
  });

  it('filters by symbol, side, rule and since', () => {
    expect(querySignals(db, { limit: 10, symbol: 'TST' }).items.map((s) => s.id)).toEqual(['c', 'b', 'a']);
    expect(querySignals(db, { limit: 10, side: 'SELL' }).items.map((s) => s.id)).toEqual(['d', 'b']);
    expect(querySignals(db, { limit: 10, rule: 'ema-ma-crossover', side: 'BUY' }).items.map((s) => s.id)).toEqual(['c']);
    expect(querySignals(db, { limit: 10, since: T0 + MIN }).items.map((s) => s.id)).toEqual(['d', 'c', 'b']);
  });

  it('returns the stored signal fields', () => {
    expect(querySignals(db, { limit: 1, symbol: 'TST', side: 'BUY', rule: 'rsi-threshold' }).items[0]).toEqual({
      id: 'a', symbol: 'TST', side: 'BUY', rule: 'rsi-threshold', price: 100, barTime: T0,
      indicators: { ma: 101, ema: 100.5, rsi: 28.5 }, reason: 'RSI crossed up out of oversold', createdAt: KAFKA_TS,
    });
  });

  it('counts signals created since a time, by side and rule', () => {
    expect(signalCounts(db, KAFKA_TS - DAY)).toEqual({ total: 3, bySide: { BUY: 2, SELL: 1 }, byRule: { 'ema-ma-crossover': 1, 'rsi-threshold': 2 } });
  });
});

describe('daily stats, economic indicators and order book', () => {
  it('gives the latest daily bar with the previous close', () => {
    const d = openKept(tmp.file());
    applyBatch(d, [
      tickRecord(0, { symbol: 'AAA', ts: T0 - DAY, p: 50, v: 10 }),
      tickRecord(1, { symbol: 'AAA', ts: T0, p: 55, v: 20 }),
      tickRecord(2, { symbol: 'BBB', ts: T0, p: 10, v: 1 }),
    ]);
    expect(latestDailyStats(d)).toEqual([
      { symbol: 'AAA', day: Date.UTC(2024, 4, 1), open: 55, close: 55, volume: 20, previousClose: 50 },
      { symbol: 'BBB', day: Date.UTC(2024, 4, 1), open: 10, close: 10, volume: 1, previousClose: null },
    ]);
    expect(latestDailyStats(d, ['BBB']).map((s) => s.symbol)).toEqual(['BBB']);
  });

  it('gives the latest reading of each economic indicator, and bid/ask from the latest orders', () => {
    const d = openKept(tmp.file());
    applyBatch(d, [
      eventRecord(0, { dataType: 'economic_indicator', indicatorName: 'GDP', timestamp: T0, value: 2.1 }),
      eventRecord(1, { dataType: 'economic_indicator', indicatorName: 'GDP', timestamp: T0 + MIN, value: 2.3 }),
      eventRecord(2, { dataType: 'economic_indicator', indicatorName: 'CPI', timestamp: T0, value: 3.4 }),
      eventRecord(3, { dataType: 'order_book', symbol: 'TST', timestamp: T0, orderType: 'sell', price: 101, quantity: 3 }),
    ]);
    expect(latestEconomicIndicators(d)).toEqual([
      { name: 'CPI', value: 3.4, timestamp: T0 },
      { name: 'GDP', value: 2.3, timestamp: T0 + MIN },
    ]);
    expect(getOrderBookTop(d, 'TST')).toEqual({ bid: null, ask: { price: 101, quantity: 3, timestamp: T0 } });
    expect(getOrderBookTop(d, 'NONE')).toBeNull();
  });
});

describe('aggregateRecords (the stage)', () => {
  const batch = [tickRecord(0, { ts: T0, p: 10, v: 1 }), raw(TOPICS.ticks, 1, '{"broken"'), tickRecord(2, { ts: T0 + 1000, p: 11, v: 1 })];

  it('dead-letters bad records with their reason and source, then commits the rest', async () => {
    const d = openKept(tmp.file());
    const sent: OutMessage[] = [];
    const r = await aggregateRecords(batch.map((b) => ({ ...b, headers: {} })), { db: d, publisher: { publish: async (m) => void sent.push(...m) } });
    expect(r.applied).toBe(2);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ topic: TOPICS.deadLetter, key: '', value: '{"broken"' });
    expect(sent[0]!.headers).toMatchObject({
      [DLQ_HEADERS.reason]: 'invalid JSON',
      [DLQ_HEADERS.function]: 'aggregate',
      [DLQ_HEADERS.originalTopic]: TOPICS.ticks,
      [DLQ_HEADERS.originalPartition]: '0',
      [DLQ_HEADERS.originalOffset]: '1',
    });
  });

  it('commits nothing when the dead letters cannot be published, so the retry still sends them', async () => {
    const d = openKept(tmp.file());
    const before = dump(d);
    const failing = { publish: async () => { throw new Error('broker down'); } };
    await expect(aggregateRecords(batch.map((b) => ({ ...b, headers: {} })), { db: d, publisher: failing })).rejects.toThrow('broker down');
    expect(dump(d)).toEqual(before);
    const sent: OutMessage[] = [];
    await aggregateRecords(batch.map((b) => ({ ...b, headers: {} })), { db: d, publisher: { publish: async (m) => void sent.push(...m) } });
    expect(sent).toHaveLength(1);
  });
});
