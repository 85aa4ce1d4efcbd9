import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { TOPICS } from '../../../shared/config';
import { applyBatch, consumedOffsets, pendingRejects } from '../../../shared/store/aggregate';
import { statement, type Db } from '../../../shared/store/db';
import { queryBars } from '../../../shared/store/queries';
import type { StreamRecordInput } from '../../../shared/store/decode';
import { dump, eventRecord, KAFKA_TS, openKept, raw, signalRecord, T0, tempDir, tickRecord } from './helpers';

const tmp = tempDir('aggregate-');
afterAll(() => tmp.cleanup());

const fresh = (): Db => openKept(tmp.file());
const now = () => 1_700_000_000_000;

/**
 * Six records for one symbol over two minutes, in arrival (offset) order:
 * offset 3 is late (event time 13:30:10 arrives after 13:31:10), offsets 1 and 4
 * share a timestamp (the later offset must win the close), and offset 5 is a
 * full candle rather than a trade tick (its VWAP price is (h + l + c) / 3).
 */
const SIX = [
  tickRecord(0, { ts: T0, p: 100, v: 10 }),
  tickRecord(1, { ts: T0 + 20_000, p: 102, v: 5 }),
  tickRecord(2, { ts: T0 + 70_000, p: 101, v: 20 }),
  tickRecord(3, { ts: T0 + 10_000, p: 99, v: 5 }),
  tickRecord(4, { ts: T0 + 20_000, p: 103, v: 10 }),
  tickRecord(5, { ts: T0 + 90_000, o: 101, h: 104, l: 100, c: 103, v: 10 }),
];

function bar(db: Db, interval: '1m' | '5m' | '1h' | '1d', time: number) {
  return queryBars(db, { symbol: 'TST', interval, from: time, to: time + 1, limit: 1, order: 'asc' }).items[0];
}

describe('applyBatch: bars from first principles', () => {
  it('builds OHLCV, VWAP and trade counts per interval, counting late records', () => {
    const db = fresh();
    const r = applyBatch(db, SIX, { now });
    expect(r).toEqual({ applied: 6, skipped: 0, rejected: [] });

    // 13:30: offsets 0, 1, 3, 4. Open = earliest event (100 @ :00); close = latest event,
    // tie at :20 broken by offset (103 from offset 4 beats 102 from offset 1).
    // pv = 100*10 + 102*5 + 99*5 + 103*10 = 3035, volume 30.
    expect(bar(db, '1m', T0)).toEqual({ time: T0, open: 100, high: 103, low: 99, close: 103, volume: 30, vwap: 3035 / 30, trades: 4 });

    // 13:31: a tick (101 x 20) and a candle (o 101 h 104 l 100 c 103, x 10, typical 307/3).
    // pv = 2020 + 3070/3 = 9130/3, volume 30 -> vwap 913/9.
    const m2 = bar(db, '1m', T0 + 60_000)!;
    expect({ ...m2, vwap: 0 }).toEqual({ time: T0 + 60_000, open: 101, high: 104, low: 100, close: 103, volume: 30, vwap: 0, trades: 2 });
    expect(m2.vwap).toBeCloseTo(913 / 9, 10);

    // 5m, 1h and 1d hold all six: pv = 3035 + 9130/3 = 18235/3, volume 60.
    for (const [interval, start] of [['5m', T0], ['1h', Date.UTC(2024, 4, 1, 13)], ['1d', Date.UTC(2024, 4, 1)]] as const) {
      const b = bar(db, interval, start)!;
      expect({ ...b, vwap: 0 }).toEqual({ time: start, open: 100, high: 104, low: 99, close: 103, volume: 60, vwap: 0, trades: 6 });
      expect(b.vwap).toBeCloseTo(18235 / 180, 10);
    }
    expect(consumedOffsets(db)).toEqual([{ topic: TOPICS.ticks, partition: 0, lastOffset: 5 }]);
  });

  it('gives a bar with no volume the close as its VWAP', () => {
    const db = fresh();
    applyBatch(db, [tickRecord(0, { ts: T0, p: 50, v: 0 }), tickRecord(1, { ts: T0 + 1000, p: 51, v: 0 })]);
    expect(bar(db, '1m', T0)).toMatchObject({ volume: 0, vwap: 51, close: 51, trades: 2 });
  });

  it('does not depend on arrival order when event times are distinct (exact sums)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 3 * 3_600_000 }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.record({ p: fc.integer({ min: 1, max: 500 }), v: fc.integer({ min: 0, max: 1000 }) }), { minLength: 25, maxLength: 25 }),
        fc.func(fc.integer()),
        (times, values, order) => {
          const ticks = times.map((dt, i) => ({ ts: T0 + dt, p: values[i]!.p, v: values[i]!.v }));
          const shuffled = [...ticks].sort((a, b) => order(a.ts) - order(b.ts) || a.ts - b.ts);
          const a = fresh();
          const b = fresh();
          applyBatch(a, ticks.map((t, i) => tickRecord(i, t)), { now });
          applyBatch(b, shuffled.map((t, i) => tickRecord(i, t)), { now });
          const bars = (db: Db) => statement(db, 'SELECT symbol, interval, start, open, high, low, close, volume, pv, trades FROM bars ORDER BY interval, start').all();
          expect(bars(b)).toEqual(bars(a));
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe('applyBatch: exactly-once effect over at-least-once delivery', () => {
  it('applies a redelivered batch once', () => {
    const db = fresh();
    applyBatch(db, SIX, { now });
    const once = dump(db);
    expect(applyBatch(db, SIX, { now })).toEqual({ applied: 0, skipped: 6, rejected: [] });
    expect(dump(db)).toEqual(once);
  });

  it('applies only the new tail of a batch that overlaps an earlier one', () => {
    const clean = fresh();
    applyBatch(clean, SIX, { now });
    const db = fresh();
    applyBatch(db, SIX.slice(0, 4), { now });
    expect(applyBatch(db, SIX.slice(2), { now })).toEqual({ applied: 2, skipped: 2, rejected: [] });
    expect(dump(db)).toEqual(dump(clean));
  });

  it('leaves no trace of a transaction that dies before COMMIT, and the retry gives the clean result', () => {
    const clean = fresh();
    applyBatch(clean, SIX, { now });
    const db = fresh();
    applyBatch(db, SIX.slice(0, 2), { now });
    const before = dump(db);
    expect(() =>
      applyBatch(db, SIX, {
        now,
        beforeCommit: () => {
          throw new Error('crash');
        },
      }),
    ).toThrow('crash');
    expect(dump(db)).toEqual(before);
    expect(applyBatch(db, SIX, { now })).toEqual({ applied: 4, skipped: 2, rejected: [] });
    expect(dump(db)).toEqual(dump(clean));
  });

  it('gives bit-identical rows however a partition is split into batches and redelivered', () => {
    // Prices like 100.1 are inexact in binary, so the pv and volume sums would differ in
    // their last bits if batching changed the order of additions.
    const tick = fc.record({ dt: fc.integer({ min: 0, max: 2 * 3_600_000 }), p: fc.double({ min: 0.01, max: 1000, noNaN: true }), v: fc.double({ min: 0, max: 1e6, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(tick, { minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 3 }), (ticks, cuts, replays) => {
        const records = ticks.map((t, i) => tickRecord(i, { ts: T0 + t.dt, p: t.p, v: t.v }));
        const whole = fresh();
        applyBatch(whole, records, { now });
        const split = fresh();
        const points = [...new Set(cuts.map((c) => c % records.length))].sort((a, b) => a - b);
        let from = 0;
        for (const to of [...points, records.length]) {
          if (to <= from) continue;
          applyBatch(split, records.slice(from, to), { now });
          // A redelivery starting anywhere at or before the committed position.
          for (const r of replays) applyBatch(split, records.slice(r % to, to), { now });
          from = to;
        }
        expect(dump(split)).toEqual(dump(whole));
      }),
      { numRuns: 20 },
    );
  });
});

describe('applyBatch: poison records', () => {
  const batch: StreamRecordInput[] = [
    tickRecord(0, { ts: T0, p: 100, v: 1 }),
    raw(TOPICS.ticks, 1, 'not json {'),
    raw(TOPICS.ticks, 2, JSON.stringify({ symbol: 'TST', timestamp: T0, open: 1, high: 1, low: 1, close: 1, volume: -5 })),
    tickRecord(3, { ts: KAFKA_TS - 30 * 86_400_000, p: 100, v: 1 }),
    raw(TOPICS.ticks, 4, ''),
    tickRecord(5, { ts: T0 + 1000, p: 101, v: 1 }),
    raw('market.unknown', 0, '{}'),
    raw(TOPICS.signals, 0, JSON.stringify({ id: 'x', symbol: 'TST', side: 'HOLD' })),
    eventRecord(0, { symbol: 'TST', timestamp: T0 }),
  ];

  it('rejects bad records with specific reasons, applies the rest and consumes every offset', () => {
    const db = fresh();
    const r = applyBatch(db, batch, { now });
    expect(r.applied).toBe(2);
    const reasons = Object.fromEntries(r.rejected.map((j) => [`${j.topic}/${j.offset}`, j.reason]));
    expect(Object.keys(reasons).sort()).toEqual([`${TOPICS.events}/0`, `${TOPICS.signals}/0`, `${TOPICS.ticks}/1`, `${TOPICS.ticks}/2`, `${TOPICS.ticks}/3`, `${TOPICS.ticks}/4`, 'market.unknown/0'].sort());
    expect(reasons[`${TOPICS.ticks}/1`]).toBe('invalid JSON');
    expect(reasons[`${TOPICS.ticks}/2`]).toMatch(/volume/);
    expect(reasons[`${TOPICS.ticks}/3`]).toMatch(/more than 7 days/);
    expect(reasons[`${TOPICS.ticks}/4`]).toMatch(/tombstone/);
    expect(reasons['market.unknown/0']).toMatch(/unexpected topic/);
    expect(reasons[`${TOPICS.signals}/0`]).toMatch(/side/);
    expect(reasons[`${TOPICS.events}/0`]).toMatch(/dataType/);
    expect(bar(db, '1m', T0)).toMatchObject({ open: 100, close: 101, trades: 2 });
    expect(consumedOffsets(db).find((o) => o.topic === TOPICS.ticks)?.lastOffset).toBe(5);
  });

  it('reports pending rejects before the commit and none after it', () => {
    const db = fresh();
    expect(pendingRejects(db, batch)).toHaveLength(7);
    applyBatch(db, batch, { now });
    expect(pendingRejects(db, batch)).toEqual([]);
    expect(applyBatch(db, batch, { now })).toEqual({ applied: 0, skipped: batch.length, rejected: [] });
  });
});

describe('applyBatch: signals and events', () => {
  it('keeps the first copy of a signal id', () => {
    const db = fresh();
    applyBatch(db, [signalRecord(0, { id: 'TST:rsi:1', barTime: T0, createdAt: KAFKA_TS })], { now });
    applyBatch(db, [signalRecord(1, { id: 'TST:rsi:1', barTime: T0, createdAt: KAFKA_TS + 5 }), signalRecord(2, { id: 'TST:rsi:2', barTime: T0 + 60_000 })], { now });
    const rows = statement<[], { id: string; created_at: number }>(db, 'SELECT id, created_at FROM signals ORDER BY id').all();
    expect(rows).toEqual([{ id: 'TST:rsi:1', created_at: KAFKA_TS }, { id: 'TST:rsi:2', created_at: KAFKA_TS }]);
  });

  it('keeps the newest market data, sentiment and order book by event time, whatever the arrival order', () => {
    const newer = [
      eventRecord(0, { dataType: 'market_data', symbol: 'TST', timestamp: T0 + 2000, marketCap: 2e12, peRatio: 30 }),
      eventRecord(1, { dataType: 'news_sentiment', symbol: 'TST', timestamp: T0 + 2000, sentimentScore: 0.5, sentimentMagnitude: 0.9 }),
      eventRecord(2, { dataType: 'order_book', symbol: 'TST', timestamp: T0 + 2000, orderType: 'buy', price: 99.5, quantity: 100 }),
    ];
    const older = [
      eventRecord(3, { dataType: 'market_data', symbol: 'TST', timestamp: T0 + 1000, marketCap: 1e12, peRatio: 20 }),
      eventRecord(4, { dataType: 'news_sentiment', symbol: 'TST', timestamp: T0 + 1000, sentimentScore: -0.5, sentimentMagnitude: 0.1 }),
      eventRecord(5, { dataType: 'order_book', symbol: 'TST', timestamp: T0 + 1000, orderType: 'buy', price: 98, quantity: 5 }),
      eventRecord(6, { dataType: 'order_book', symbol: 'TST', timestamp: T0 + 1000, orderType: 'sell', price: 100.5, quantity: 7 }),
    ];
    const db = fresh();
    expect(applyBatch(db, [...newer, ...older], { now }).applied).toBe(7);
    expect(statement(db, 'SELECT ts, market_cap, pe_ratio FROM market_data_latest').get()).toEqual({ ts: T0 + 2000, market_cap: 2e12, pe_ratio: 30 });
    expect(statement(db, 'SELECT ts, score, magnitude FROM sentiment_latest').get()).toEqual({ ts: T0 + 2000, score: 0.5, magnitude: 0.9 });
    expect(statement(db, 'SELECT side, price, quantity FROM order_book_latest ORDER BY side').all()).toEqual([
      { side: 'buy', price: 99.5, quantity: 100 },
      { side: 'sell', price: 100.5, quantity: 7 },
    ]);
  });

  it('keeps economic indicator history with one reading per (name, time)', () => {
    const db = fresh();
    applyBatch(db, [
      eventRecord(0, { dataType: 'economic_indicator', indicatorName: 'CPI', timestamp: T0, value: 3.1 }),
      eventRecord(1, { dataType: 'economic_indicator', indicatorName: 'CPI', timestamp: T0 + 1000, value: 3.2 }),
      // A correction of the first reading, sent again later.
      eventRecord(2, { dataType: 'economic_indicator', indicatorName: 'CPI', timestamp: T0, value: 3.0 }),
    ], { now });
    expect(statement(db, 'SELECT name, ts, value FROM economic_indicators ORDER BY ts').all()).toEqual([
      { name: 'CPI', ts: T0, value: 3.0 },
      { name: 'CPI', ts: T0 + 1000, value: 3.2 },
    ]);
  });
});
