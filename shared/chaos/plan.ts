/**
 * The fault schedule of one chaos run, drawn from a seed so a failing run can be
 * repeated exactly. Pure: times are offsets from the start of the fault run's feed.
 *
 * Service outages (Redis stopped, Redis flushed, broker restart, SNS down) never
 * overlap one another, so each one's effect (and the drain after it) is seen on its
 * own; kills of stage workers are spread over the whole feed and may land inside an
 * outage, which is when recovery paths pile up.
 */
import { Rng } from '../generator/random';

export const STAGES = ['process', 'signal', 'notify', 'aggregate'] as const;
export type StageName = (typeof STAGES)[number];

/** Where a kill is aimed: while an invocation is in flight, inside an SQLite transaction, or whenever the clock says. */
export type KillAim = 'mid-batch' | 'mid-transaction' | 'anytime';

/**
 * -stop: the server hangs (SIGSTOP … SIGCONT): requests wait or time out.
 * -down: the service is unreachable for this run (its relay resets connections and refuses new ones): requests fail at once.
 * redis-flush: the cache loses every key (FLUSHDB of the run's database).
 * kafka-restart: the broker restarts (scripts/stack.sh restart kafka).
 */
export type OutageKind = 'redis-stop' | 'redis-down' | 'redis-flush' | 'kafka-restart' | 'sns-stop' | 'sns-down';
export const OUTAGE_KINDS: readonly OutageKind[] = ['redis-stop', 'redis-down', 'redis-flush', 'kafka-restart', 'sns-stop', 'sns-down'];

export interface KillFault {
  kind: 'kill';
  /** 1-based, in schedule order. */
  n: number;
  atMs: number;
  target: StageName;
  aim: KillAim;
}

export interface OutageFault {
  kind: OutageKind;
  atMs: number;
  /** How long the service stays away; for a broker restart the time reserved for it, for a flush 0. */
  durationMs: number;
}

export type PlannedFault = KillFault | OutageFault;

export interface FaultPlanOptions {
  seed: number;
  kills: number;
  /** Length of the fault run's feed; every fault starts inside it. */
  windowMs: number;
  outages: readonly OutageKind[];
  /** Default: Redis 10 s, SNS 30 s, broker restart 45 s reserved, flush instant. */
  durations?: Partial<Record<OutageKind, number>>;
  /** Quiet time kept between two outages. Default 5 s. */
  gapMs?: number;
}

export const DEFAULT_OUTAGE_MS: Record<OutageKind, number> = {
  'redis-stop': 10_000,
  'redis-down': 10_000,
  'redis-flush': 0,
  // Measured: SIGTERM, controlled shutdown and a cold JVM start take 15–40 s on a busy 2-core machine.
  'kafka-restart': 45_000,
  'sns-stop': 30_000,
  'sns-down': 30_000,
};

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/** Outages start after this share of the window and end before 1 minus it: the pipeline is busy on both sides. */
const EDGE = 0.08;

export function planFaults(o: FaultPlanOptions): PlannedFault[] {
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new PlanError(`seed must be a non-negative integer, got ${o.seed}`);
  if (!Number.isInteger(o.kills) || o.kills < 0) throw new PlanError(`kills must be a non-negative integer, got ${o.kills}`);
  if (!(o.windowMs > 0)) throw new PlanError(`windowMs must be positive, got ${o.windowMs}`);
  const gap = o.gapMs ?? 5_000;
  const kinds = [...new Set(o.outages)];
  const rng = new Rng(o.seed, 0xc4a05);

  const durations = kinds.map((k) => o.durations?.[k] ?? DEFAULT_OUTAGE_MS[k]);
  const from = EDGE * o.windowMs;
  const available = (1 - 2 * EDGE) * o.windowMs;
  const needed = durations.reduce((a, d) => a + d, 0) + gap * Math.max(0, kinds.length - 1);
  if (needed > available) {
    throw new PlanError(
      `the outages need ${(needed / 1000).toFixed(0)} s inside the middle ${(100 * (1 - 2 * EDGE)).toFixed(0)}% of the feed, ` +
        `but the feed lasts ${(o.windowMs / 1000).toFixed(0)} s; use a feed of at least ${Math.ceil(needed / (1 - 2 * EDGE) / 1000)} s`,
    );
  }
  // Random order, then the slack spread over the gaps by sorted uniform cut points.
  const order = shuffle(kinds.map((_, i) => i), rng);
  const slack = available - needed;
  const cuts = Array.from({ length: kinds.length }, () => rng.uniform() * slack).sort((a, b) => a - b);
  const outages: OutageFault[] = [];
  let cursor = from;
  let usedSlack = 0;
  order.forEach((idx, i) => {
    cursor += (cuts[i] ?? 0) - usedSlack;
    usedSlack = cuts[i] ?? 0;
    const durationMs = durations[idx]!;
    outages.push({ kind: kinds[idx]!, atMs: Math.round(cursor), durationMs });
    cursor += durationMs + gap;
  });

  // Every stage is killed about equally often, in a seeded order. The aggregate function's
  // invocation is one synchronous SQLite transaction, during which its worker cannot even
  // answer "are you busy?": it is aimed at by the transaction's rollback journal instead.
  const targets = shuffle([...STAGES], rng);
  const killTimes = Array.from({ length: o.kills }, () => Math.round((0.04 + 0.92 * rng.uniform()) * o.windowMs)).sort((a, b) => a - b);
  const kills: KillFault[] = killTimes.map((atMs, i) => {
    const target = targets[i % targets.length]!;
    const aim: KillAim = (i + 1) % 5 === 0 ? 'anytime' : target === 'aggregate' ? 'mid-transaction' : 'mid-batch';
    return { kind: 'kill', n: i + 1, atMs, target, aim };
  });

  return [...outages, ...kills].sort((a, b) => a.atMs - b.atMs || (a.kind === 'kill' ? 1 : -1));
}

/** Feed length that fits the outages and spaces the kills about 2.5 s apart; at least 2 minutes. */
export function defaultWindowMs(kills: number, outages: readonly OutageKind[], durations: Partial<Record<OutageKind, number>> = {}, gapMs = 5_000): number {
  const needed = outages.reduce((a, k) => a + (durations[k] ?? DEFAULT_OUTAGE_MS[k]), 0) + gapMs * Math.max(0, outages.length - 1);
  const forOutages = needed / (1 - 2 * EDGE);
  return Math.ceil(Math.max(120_000, forOutages + 10_000, kills * 2_500) / 1000) * 1000;
}

function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
