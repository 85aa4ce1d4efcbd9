import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS } from '../../../shared/config';
import { openStore, statement, type Db, type OpenStoreOptions } from '../../../shared/store/db';
import type { StreamRecordInput } from '../../../shared/store/decode';

/** A fresh directory per test file; SQLite files live on real disk, as in production. */
export function tempDir(prefix = 'store-'): { dir: string; file: (name?: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return { dir, file: (name) => join(dir, name ?? `db-${n++}.sqlite`), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const T0 = Date.UTC(2024, 4, 1, 13, 30, 0);
/** Broker create time for the test records: after every event time used, within the 7-day window. */
export const KAFKA_TS = T0 + 3_600_000;

export function tickRecord(offset: number, t: { symbol?: string; ts: number; p?: number; o?: number; h?: number; l?: number; c?: number; v: number }, partition = 0): StreamRecordInput {
  const p = t.p ?? 0;
  const value = { symbol: t.symbol ?? 'TST', timestamp: t.ts, open: t.o ?? p, high: t.h ?? p, low: t.l ?? p, close: t.c ?? p, volume: t.v };
  return { topic: TOPICS.ticks, partition, offset, timestamp: KAFKA_TS, key: value.symbol, value: JSON.stringify(value) };
}

export function raw(topic: string, offset: number, value: string, partition = 0): StreamRecordInput {
  return { topic, partition, offset, timestamp: KAFKA_TS, key: null, value };
}

export function signalRecord(offset: number, s: { id: string; symbol?: string; side?: 'BUY' | 'SELL'; rule?: string; barTime: number; createdAt?: number; price?: number }): StreamRecordInput {
  const value = {
    id: s.id,
    symbol: s.symbol ?? 'TST',
    side: s.side ?? 'BUY',
    rule: s.rule ?? 'rsi-threshold',
    price: s.price ?? 100,
    barTime: s.barTime,
    indicators: { ma: 101, ema: 100.5, rsi: 28.5 },
    reason: 'RSI crossed up out of oversold',
    createdAt: s.createdAt ?? KAFKA_TS,
  };
  return raw(TOPICS.signals, offset, JSON.stringify(value));
}

export function eventRecord(offset: number, value: Record<string, unknown>, partition = 0): StreamRecordInput {
  return raw(TOPICS.events, offset, JSON.stringify(value), partition);
}

/** openStore already keeps every connection referenced for the life of the process (see shared/store/db.ts). */
export function openKept(path: string, opts?: OpenStoreOptions): Db {
  return openStore(path, opts);
}

/** Every row of every table, in a stable order: two stores are equal when their dumps are. */
export function dump(db: Db): Record<string, unknown[]> {
  const tables = statement<[], string>(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", 'pluck').all();
  const out: Record<string, unknown[]> = {};
  for (const t of tables) out[t] = statement(db, `SELECT * FROM "${t}" ORDER BY 1, 2, 3`).all();
  return out;
}
