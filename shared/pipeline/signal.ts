import { TOPICS, type Topics } from '../config';
import { keys, type RedisClient } from '../adapters/redis';
import { createRuleState, deserializeRuleState, evaluateBar, serializeRuleState, type RuleState, type RulesConfig, type Signal } from '../engine/signals';
import type { IndicatorBar } from '../engine/engine';
import { assertCacheEpoch, changelogMessage, ensureCacheEpoch, getMany, RECENT_SIGNAL_CHANGELOG_PREFIX, type ChangelogReader } from './state-cache';
import { deadLetterMessage } from './dead-letter';
import type { OutMessage, Publisher, StreamRecord } from './ports';

/**
 * Stage 4: closed indicator bars → BUY/SELL signals.
 *
 * The rule state remembers the last bar time it evaluated per symbol, so a
 * redelivered bar produces nothing; a crash between publishing and saving state
 * re-publishes signals with the same deterministic ids, which every consumer
 * dedupes. Signals are published before the Redis state is saved.
 */

export interface SignalDeps {
  redis: RedisClient;
  publisher: Publisher;
  readChangelog: ChangelogReader;
  rules: RulesConfig;
  now?: () => number;
  topics?: Topics;
}

export type PublishedSignal = Signal & { createdAt: number };

/** Recent signals kept in Redis for the dashboard feed; the full history is in SQLite. */
export const RECENT_SIGNALS = 1000;
const STAGE = 'signal';

export async function evaluateSignals(records: StreamRecord[], deps: SignalDeps): Promise<{ signals: PublishedSignal[]; deadLettered: number }> {
  const { redis, publisher } = deps;
  const now = deps.now ?? Date.now;
  const topics = deps.topics ?? TOPICS;
  const epoch = await ensureCacheEpoch(redis, deps.readChangelog);
  const out: OutMessage[] = [];
  const bars: IndicatorBar[] = [];
  let deadLettered = 0;
  for (const record of records) {
    try {
      const bar = JSON.parse(record.value) as IndicatorBar;
      if (typeof bar?.symbol !== 'string' || !Number.isFinite(bar.time) || !Number.isFinite(bar.close)) throw new Error('not an indicator bar');
      bars.push(bar);
    } catch (err) {
      out.push(deadLetterMessage({ record, reason: `invalid indicator bar: ${(err as Error).message}`, stage: STAGE }, topics));
      deadLettered++;
    }
  }

  const symbols = [...new Set(bars.map((b) => b.symbol))];
  const stored = await getMany(redis, symbols.map(keys.ruleState));
  const states = new Map<string, RuleState>();
  symbols.forEach((s, i) => {
    const text = stored[i];
    states.set(s, text ? deserializeRuleState(text) : createRuleState());
  });

  const signals: PublishedSignal[] = [];
  const createdAt = now();
  for (const bar of bars) {
    for (const s of evaluateBar(states.get(bar.symbol)!, bar, deps.rules)) signals.push({ ...s, createdAt });
  }
  for (const s of signals) out.push({ topic: topics.signals, key: s.symbol, value: JSON.stringify(s), headers: { 'signal-id': s.id } });
  for (const symbol of symbols) out.push(changelogMessage(keys.ruleState(symbol), serializeRuleState(states.get(symbol)!), topics));
  // The recent list is cache state too: its durable copy is one changelog entry per signal.
  for (const s of signals) out.push(changelogMessage(`${RECENT_SIGNAL_CHANGELOG_PREFIX}${s.id}`, JSON.stringify(s), topics));
  await publisher.publish(out);

  // The recent list before the rule state: saving the rule state marks these bars as
  // evaluated, so a batch that died (or lost Redis) between the two would, redelivered,
  // produce no signals and never add them to the list. Adding them is idempotent.
  if (signals.length) {
    const m = redis.multi();
    for (const s of signals) {
      m.zadd(keys.recentSignals, s.barTime, s.id);
      // HSETNX keeps the first copy of a signal a redelivery publishes again.
      m.hsetnx(keys.signalData, s.id, JSON.stringify(s));
    }
    await m.exec();
    const trimmed = await trimRecentSignals(redis);
    // An empty value retires the entry, so a restore does not bring trimmed signals back.
    if (trimmed.length) await publisher.publish(trimmed.map((id) => changelogMessage(`${RECENT_SIGNAL_CHANGELOG_PREFIX}${id}`, '', topics)));
  }
  await Promise.all(symbols.map((symbol) => redis.set(keys.ruleState(symbol), serializeRuleState(states.get(symbol)!))));
  await assertCacheEpoch(redis, epoch);
  return { signals, deadLettered };
}

async function trimRecentSignals(redis: RedisClient): Promise<string[]> {
  const excess = (await redis.zcard(keys.recentSignals)) - RECENT_SIGNALS;
  if (excess <= 0) return [];
  const old = await redis.zrange(keys.recentSignals, '0', String(excess - 1));
  if (old.length) await redis.multi().zrem(keys.recentSignals, ...old).hdel(keys.signalData, ...old).exec();
  return old;
}
