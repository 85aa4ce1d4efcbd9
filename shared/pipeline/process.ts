import { TOPICS, type Topics } from '../config';
import { keys, type RedisClient } from '../adapters/redis';
import { validatePriceRecord, type PriceRecord } from '../schema/records';
import {
  applyRecord,
  createSymbolState,
  deserializeState,
  type EngineConfig,
  type IndicatorBar,
  type Snapshot,
  type SymbolState,
} from '../engine/engine';
import { assertCacheEpoch, changelogMessage, ensureCacheEpoch, getMany, type ChangelogReader } from './state-cache';
import { deadLetterMessage } from './dead-letter';
import type { OutMessage, Publisher, StreamRecord } from './ports';

/**
 * Stage 3: ticks → event-time bars → MA/EMA/RSI. Per symbol, in offset order.
 *
 * Exactly-once effect over at-least-once delivery: each symbol's state remembers
 * the last offset it applied per partition, and a record at or below it is skipped.
 * Outputs and the state changelog are published (and acknowledged) before the Redis
 * state is written, so a crash in between only causes a replay that produces the
 * same closed bars again — downstream stages dedupe them by bar time.
 */

export interface ProcessDeps {
  redis: RedisClient;
  publisher: Publisher;
  readChangelog: ChangelogReader;
  engine: EngineConfig;
  /** Default TOPICS; tests and sandboxes pass their own namespace. */
  topics?: Topics;
}

/** Per-symbol state plus the offsets already folded into it. */
interface StoredState {
  engine: SymbolState;
  offsets: Record<string, number>;
}

export interface ProcessResult {
  applied: number;
  duplicates: number;
  deadLettered: number;
  closedBars: number;
  symbols: number;
}

const STAGE = 'process';

export async function processTicks(records: StreamRecord[], deps: ProcessDeps): Promise<ProcessResult> {
  const { redis, publisher, engine } = deps;
  const topics = deps.topics ?? TOPICS;
  const epoch = await ensureCacheEpoch(redis, deps.readChangelog);
  const out: OutMessage[] = [];
  const result: ProcessResult = { applied: 0, duplicates: 0, deadLettered: 0, closedBars: 0, symbols: 0 };

  const parsed: ParsedTick[] = [];
  for (const record of records) {
    const reason = parseTick(record, parsed);
    if (reason) {
      out.push(deadLetterMessage({ record, reason, stage: STAGE }, topics));
      result.deadLettered++;
    }
  }

  const symbols = [...new Set(parsed.map((p) => p.symbol))];
  const stored = await getMany(redis, symbols.map(keys.symbolState));
  const states = new Map<string, StoredState>();
  symbols.forEach((s, i) => states.set(s, decodeStored(stored[i] ?? null, s, engine)));

  const snapshots = new Map<string, Snapshot>();
  for (const { record, symbol, value } of parsed) {
    const st = states.get(symbol)!;
    const p = String(record.partition);
    if (record.offset <= (st.offsets[p] ?? -1)) {
      result.duplicates++;
      continue;
    }
    st.offsets[p] = record.offset;
    const r = applyRecord(st.engine, value, engine);
    snapshots.set(symbol, r.snapshot);
    if (r.late) {
      // Late data still counts in the aggregate stage's bars; it never rewrites closed indicators.
      out.push(deadLetterMessage({ record, reason: `late: bar for ${new Date(value.timestamp).toISOString()} is already closed`, stage: STAGE }, topics));
      result.deadLettered++;
      continue;
    }
    result.applied++;
    for (const bar of r.closed) out.push(indicatorMessage(bar, topics));
    result.closedBars += r.closed.length;
  }

  const changed = [...snapshots.keys()];
  const encoded = new Map(changed.map((symbol) => [symbol, JSON.stringify(states.get(symbol))]));
  for (const symbol of changed) out.push(changelogMessage(keys.symbolState(symbol), encoded.get(symbol)!, topics));
  await publisher.publish(out);

  await Promise.all(
    changed.map(async (symbol) => {
      // Same hash slot: state and snapshot move together.
      await redis
        .multi()
        .set(keys.symbolState(symbol), encoded.get(symbol)!)
        .set(keys.snapshot(symbol), JSON.stringify(snapshots.get(symbol)))
        .exec();
    }),
  );
  if (changed.length) await redis.sadd(keys.symbols, ...changed);
  await assertCacheEpoch(redis, epoch);
  result.symbols = changed.length;
  return result;
}

interface ParsedTick {
  record: StreamRecord;
  symbol: string;
  value: PriceRecord;
}

function parseTick(record: StreamRecord, into: ParsedTick[]): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(record.value);
  } catch {
    return 'invalid JSON';
  }
  // "now" is the broker's create time, so a redelivery validates exactly as the first delivery did.
  const v = validatePriceRecord(json, { now: record.timestamp });
  if (!v.ok) return `invalid record: ${v.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`;
  into.push({ record, symbol: v.value.symbol, value: v.value });
  return undefined;
}

function decodeStored(text: string | null, symbol: string, engine: EngineConfig): StoredState {
  if (!text) return { engine: createSymbolState(symbol, engine), offsets: {} };
  const raw = JSON.parse(text) as { engine: unknown; offsets: Record<string, number> };
  return { engine: deserializeState(JSON.stringify(raw.engine)), offsets: raw.offsets };
}

export function indicatorMessage(bar: IndicatorBar, topics: Topics = TOPICS): OutMessage {
  return { topic: topics.indicators, key: bar.symbol, value: JSON.stringify(bar) };
}
