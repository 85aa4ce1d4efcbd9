import { Cluster, Redis } from 'ioredis';
import { getBooleanFromEnv, getStringFromEnv } from '../config';

export type RedisClient = Redis | Cluster;

export interface RedisConfig {
  url: string;
  cluster: boolean;
}

export function loadRedisConfig(env: Record<string, string | undefined> = process.env): RedisConfig {
  return {
    url: getStringFromEnv('REDIS_URL', { env, default: 'redis://localhost:6379' }),
    cluster: getBooleanFromEnv('REDIS_CLUSTER', { env, default: false }),
  };
}

/**
 * The one Redis client factory. `rediss://` turns TLS on (ElastiCache Serverless
 * requires it); REDIS_CLUSTER=true uses cluster mode, which ElastiCache Serverless
 * always runs in — every multi-key command in this project keeps its keys in one
 * hash slot with a `{tag}` for that reason.
 */
export function createRedis(cfg: RedisConfig = loadRedisConfig()): RedisClient {
  const u = new URL(cfg.url);
  const tls = u.protocol === 'rediss:' ? {} : undefined;
  const port = Number(u.port || 6379);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  // Fail a command quickly while the server is away instead of queueing forever:
  // the event source mapping retries the whole batch, which is the recovery path.
  // commandTimeout: a server that hangs (no reply, connection open) fails the command too.
  const common = { maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 5_000, commandTimeout: 5_000, lazyConnect: false } as const;
  // Commands issued together (Promise.all over keys in different slots) go out as one round trip per node.
  const enableAutoPipelining = true;
  if (cfg.cluster) {
    return new Cluster([{ host: u.hostname, port }], {
      enableAutoPipelining,
      // ElastiCache Serverless hands out hostnames whose TLS certificates must match.
      dnsLookup: (address, callback) => callback(null, address),
      redisOptions: { ...common, tls, username, password },
      slotsRefreshTimeout: 5_000,
    });
  }
  return new Redis({ ...common, enableAutoPipelining, host: u.hostname, port, tls, username, password, db: Number(u.pathname.slice(1) || 0) });
}

/** Redis Cluster hash-tagged key: every key of one symbol lives in one slot. */
export const keys = {
  symbolState: (symbol: string) => `{${symbol}}:state`,
  ruleState: (symbol: string) => `{${symbol}}:rules`,
  snapshot: (symbol: string) => `{${symbol}}:snapshot`,
  notified: (symbol: string, signalId: string) => `{${symbol}}:notified:${signalId}`,
  symbols: '{meta}:symbols',
  /** Set after the state cache is known to be complete (restored, or fresh); its absence means the cache was lost. */
  cacheEpoch: '{meta}:epoch',
  recentSignals: '{signals}:recent',
  signalData: '{signals}:data',
} as const;
