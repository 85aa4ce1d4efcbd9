import { z } from 'zod';
import { keys } from '../adapters/redis';

/**
 * Read access to the latest per-symbol values that the process stage caches in
 * Redis. Only single-key commands, so it works unchanged against a cluster
 * (ElastiCache Serverless), where keys of different symbols live in different slots.
 */

/** The subset of ioredis (standalone or cluster) the API reads with. */
export interface RedisReader {
  get(key: string): Promise<string | null>;
  smembers(key: string): Promise<string[]>;
  sismember(key: string, member: string): Promise<number>;
  ping(): Promise<string>;
}

export class RedisTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`Redis ${what} did not answer within ${ms} ms`);
    this.name = 'RedisTimeoutError';
  }
}

/** A Redis call bounded in time: ioredis queues commands while reconnecting, which would otherwise hang the request. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RedisTimeoutError(what, ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const indicators = z.object({ ma: z.number().nullable(), ema: z.number().nullable(), rsi: z.number().nullable() });

export const SnapshotSchema = z.object({
  symbol: z.string(),
  lastPrice: z.number().nullable(),
  lastTimestamp: z.number().nullable(),
  indicators,
  openBar: z
    .object({
      time: z.number(),
      open: z.number(),
      high: z.number(),
      low: z.number(),
      close: z.number(),
      volume: z.number(),
      vwap: z.number(),
      trades: z.number(),
      provisional: indicators,
    })
    .nullable(),
});
export type CachedSnapshot = z.infer<typeof SnapshotSchema>;

function parseSnapshot(text: string | null): CachedSnapshot | null {
  if (text === null) return null;
  try {
    const r = SnapshotSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export async function readSnapshot(redis: RedisReader, symbol: string, timeoutMs: number): Promise<CachedSnapshot | null> {
  return parseSnapshot(await withTimeout(redis.get(keys.snapshot(symbol)), timeoutMs, 'GET snapshot'));
}

export async function readKnownSymbols(redis: RedisReader, timeoutMs: number): Promise<string[]> {
  return withTimeout(redis.smembers(keys.symbols), timeoutMs, 'SMEMBERS symbols');
}

/** Snapshots of many symbols: one GET each (auto-pipelined by the client), since they sit in different slots. */
export async function readSnapshots(redis: RedisReader, symbols: readonly string[], timeoutMs: number): Promise<Map<string, CachedSnapshot>> {
  const texts = await withTimeout(Promise.all(symbols.map((s) => redis.get(keys.snapshot(s)))), timeoutMs, 'GET snapshots');
  const out = new Map<string, CachedSnapshot>();
  symbols.forEach((s, i) => {
    const snap = parseSnapshot(texts[i] ?? null);
    if (snap) out.set(s, snap);
  });
  return out;
}

export async function isKnownSymbol(redis: RedisReader, symbol: string, timeoutMs: number): Promise<boolean> {
  return (await withTimeout(redis.sismember(keys.symbols, symbol), timeoutMs, 'SISMEMBER symbols')) === 1;
}
