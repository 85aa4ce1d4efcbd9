/**
 * The one configuration loader. Every process (Lambda handler, local runtime,
 * CLI) reads its settings here, once, and fails fast naming the variable.
 */

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

export function getStringFromEnv(name: string, opts: { default?: string; env?: Env } = {}): string {
  const raw = (opts.env ?? process.env)[name];
  if (raw !== undefined && raw !== '') return raw;
  if (opts.default !== undefined) return opts.default;
  throw new ConfigError(`Missing required environment variable ${name}`);
}

export function getNumberFromEnv(name: string, opts: { default?: number; env?: Env; min?: number; max?: number; integer?: boolean } = {}): number {
  const raw = (opts.env ?? process.env)[name];
  if (raw === undefined || raw === '') {
    if (opts.default !== undefined) return opts.default;
    throw new ConfigError(`Missing required environment variable ${name}`);
  }
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new ConfigError(`Environment variable ${name} must be a number, got "${raw}"`);
  if (opts.integer && !Number.isInteger(n)) throw new ConfigError(`Environment variable ${name} must be an integer, got "${raw}"`);
  if (opts.min !== undefined && n < opts.min) throw new ConfigError(`Environment variable ${name} must be >= ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new ConfigError(`Environment variable ${name} must be <= ${opts.max}, got ${n}`);
  return n;
}

export function getBooleanFromEnv(name: string, opts: { default?: boolean; env?: Env } = {}): boolean {
  const raw = (opts.env ?? process.env)[name];
  if (raw === undefined || raw === '') {
    if (opts.default !== undefined) return opts.default;
    throw new ConfigError(`Missing required environment variable ${name}`);
  }
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`Environment variable ${name} must be a boolean (true/false), got "${raw}"`);
}

/**
 * Kafka topic names. One place, so producers, consumers, infra and tests agree.
 * TOPIC_NAMESPACE (default empty) prefixes them all, so a test or the chaos harness
 * can run a whole pipeline on its own topics next to a running one.
 */
export const TOPIC_NAMESPACE = process.env.TOPIC_NAMESPACE ?? '';

export function topicNames(namespace: string) {
  return {
    ticks: `${namespace}market.ticks`,
    indicators: `${namespace}market.indicators`,
    signals: `${namespace}market.signals`,
    events: `${namespace}market.events`,
    /** Records that failed validation inside the stream, and batches an event source mapping gave up on. */
    deadLetter: `${namespace}market.dlq`,
    /** Compacted, keyed by Redis key: the durable copy of per-symbol stream state (Redis is its cache). */
    stateChangelog: `${namespace}market.state-changelog`,
  } as const;
}

export const TOPICS = topicNames(TOPIC_NAMESPACE);
export type Topics = ReturnType<typeof topicNames>;
export type TopicName = Topics[keyof Topics];
