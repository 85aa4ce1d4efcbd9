import { TOPICS } from '../../../shared/config';
import { applyBatch } from '../../../shared/store/aggregate';
import type { Db } from '../../../shared/store/db';
import type { StreamRecordInput } from '../../../shared/store/decode';
import { openKept } from '../../unit/store/helpers';

/**
 * A small, hand-checkable market written through the real aggregate path:
 *   A: closed 50 on Apr 30; trades 52 then 55 on May 1 (change +10 %), with a
 *      Redis snapshot; sentiment, market data, order book and three signals.
 *   B: only in SQLite (as after a Redis flush): opens 20, last 18 on May 1 (-10 %).
 *   C: only in Redis (the store has not caught up yet).
 */
export const DAY = Date.UTC(2024, 4, 1);
export const MIN = 60_000;
export const NOW = DAY + 14 * 3_600_000;
const KAFKA_TS = DAY + 16 * 3_600_000;

export interface Symbols { A: string; B: string; C: string }

function rec(topic: string, offset: number, value: unknown): StreamRecordInput {
  return { topic, partition: 0, offset, timestamp: KAFKA_TS, key: null, value: JSON.stringify(value) };
}

const tick = (symbol: string, ts: number, p: number, v: number) => ({ symbol, timestamp: ts, open: p, high: p, low: p, close: p, volume: v });

export function seedStore(path: string, s: Symbols): Db {
  const db = openKept(path);
  applyBatch(db, [
    rec(TOPICS.ticks, 0, tick(s.A, DAY - 3_600_000, 50, 100)),
    rec(TOPICS.ticks, 1, tick(s.A, DAY + 13.5 * 3_600_000, 52, 10)),
    rec(TOPICS.ticks, 2, tick(s.A, DAY + 13.5 * 3_600_000 + MIN + 30_000, 55, 20)),
    rec(TOPICS.ticks, 3, tick(s.B, DAY + 9 * 3_600_000, 20, 5)),
    rec(TOPICS.ticks, 4, tick(s.B, DAY + 10 * 3_600_000, 18, 5)),
    rec(TOPICS.signals, 0, signal(s.A, 'a1', 'BUY', 'rsi-threshold', DAY + 13.5 * 3_600_000, NOW - 3_600_000)),
    rec(TOPICS.signals, 1, signal(s.A, 'a2', 'SELL', 'ema-ma-crossover', DAY + 13.5 * 3_600_000 + MIN, NOW - 3_600_000)),
    rec(TOPICS.signals, 2, signal(s.A, 'a3', 'BUY', 'ema-ma-crossover', DAY - 3_600_000, NOW - 2 * 86_400_000)),
    rec(TOPICS.signals, 3, signal(s.B, 'b1', 'SELL', 'rsi-threshold', DAY + 10 * 3_600_000, NOW - 60_000)),
    rec(TOPICS.events, 0, { dataType: 'news_sentiment', symbol: s.A, timestamp: DAY + 12 * 3_600_000, sentimentScore: 0.4, sentimentMagnitude: 0.7 }),
    rec(TOPICS.events, 1, { dataType: 'market_data', symbol: s.A, timestamp: DAY + 12 * 3_600_000, marketCap: 2.5e12, peRatio: 28.5 }),
    rec(TOPICS.events, 2, { dataType: 'order_book', symbol: s.A, timestamp: DAY + 12 * 3_600_000, orderType: 'buy', price: 54.9, quantity: 100 }),
    rec(TOPICS.events, 3, { dataType: 'economic_indicator', indicatorName: 'CPI', timestamp: DAY, value: 3.1 }),
    rec(TOPICS.events, 4, { dataType: 'economic_indicator', indicatorName: 'CPI', timestamp: DAY + 3_600_000, value: 3.2 }),
  ]);
  return db;
}

function signal(symbol: string, id: string, side: 'BUY' | 'SELL', rule: string, barTime: number, createdAt: number) {
  return { id: `${symbol}:${id}`, symbol, side, rule, price: 55, barTime, indicators: { ma: 53, ema: 53.5, rsi: 25 }, reason: `${rule} ${side}`, createdAt };
}

export function snapshotOf(symbol: string, lastPrice: number, lastTimestamp: number) {
  return {
    symbol,
    lastPrice,
    lastTimestamp,
    indicators: { ma: 53, ema: 53.5, rsi: 61.25 },
    openBar: {
      symbol, timeframe: '1m', time: lastTimestamp - (lastTimestamp % MIN),
      open: lastPrice, high: lastPrice, low: lastPrice, close: lastPrice, volume: 20, vwap: lastPrice, trades: 1,
      provisional: { ma: 53.1, ema: 53.6, rsi: 62 },
    },
  };
}
