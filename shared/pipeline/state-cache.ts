import { randomUUID } from 'node:crypto';
import { TOPICS, type Topics } from '../config';
import { keys, type RedisClient } from '../adapters/redis';
import type { OutMessage } from './ports';

/**
 * Per-symbol stream state lives in Redis for speed, but Redis is only a cache: every
 * batch also writes the new state to the compacted changelog topic
 * (`market.state-changelog`, keyed by the Redis key), the way Kafka Streams backs
 * its state stores. If the cache is lost (node replacement, FLUSHALL) the epoch key
 * disappears with it; the next batch restores every key from the changelog and only
 * then sets a new epoch. A batch that sees the epoch change under it fails and is
 * retried, so it never mixes state from before and after a loss.
 */

/**
 * Changelog key of one signal in the Redis recent-signals list. The list is a sorted
 * set, not a string key, so it is restored from one changelog entry per signal (an
 * empty value once the signal has been trimmed from the list).
 */
export const RECENT_SIGNAL_CHANGELOG_PREFIX = '{signals}:recent#';

/** Reads the compacted changelog to its end: the latest value of every key. */
export type ChangelogReader = () => Promise<Map<string, string>>;

export class CacheLostError extends Error {
  constructor() {
    super('Redis state cache was lost during the batch; retrying the batch after restore');
  }
}

export async function ensureCacheEpoch(redis: RedisClient, readChangelog: ChangelogReader): Promise<string> {
  const epoch = await redis.get(keys.cacheEpoch);
  if (epoch) return epoch;
  const latest = await readChangelog();
  // NX: a key already present was written by a batch that ran after another
  // restorer finished, so it is newer than the changelog copy we read.
  const entries = [...latest.entries()];
  for (let i = 0; i < entries.length; i += 500) {
    await Promise.all(
      entries.slice(i, i + 500).map(async ([k, v]) => {
        if (k.startsWith(RECENT_SIGNAL_CHANGELOG_PREFIX)) {
          const s = JSON.parse(v) as { id: string; barTime: number };
          // Same hash slot ({signals}); ZADD and HSETNX are idempotent, so a concurrent restorer does no harm.
          await redis.multi().zadd(keys.recentSignals, s.barTime, s.id).hsetnx(keys.signalData, s.id, v).exec();
          return;
        }
        await redis.set(k, v, 'NX');
        const sym = /^\{(.+)\}:state$/.exec(k)?.[1];
        if (sym) await redis.sadd(keys.symbols, sym);
      }),
    );
  }
  const fresh = randomUUID();
  await redis.set(keys.cacheEpoch, fresh, 'NX');
  return (await redis.get(keys.cacheEpoch)) ?? fresh;
}

export async function assertCacheEpoch(redis: RedisClient, epoch: string): Promise<void> {
  if ((await redis.get(keys.cacheEpoch)) !== epoch) throw new CacheLostError();
}

/**
 * GET of many keys that may live in different cluster slots. MGET and explicit
 * pipelines must stay within one slot in cluster mode; separate commands issued
 * together are auto-pipelined per node by the client instead.
 */
export async function getMany(redis: RedisClient, ks: string[]): Promise<(string | null)[]> {
  return Promise.all(ks.map((k) => redis.get(k)));
}

export function changelogMessage(key: string, value: string, topics: Topics = TOPICS): OutMessage {
  return { topic: topics.stateChangelog, key, value };
}
