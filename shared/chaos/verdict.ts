/**
 * Pass or fail, check by check, from a comparison and the record of injected faults.
 * Pure.
 */
import { sample, type Comparison, type Delivery } from './compare';
import type { KillAim, OutageKind, StageName } from './plan';

/** A fault as it actually happened (wall-clock epoch ms), as opposed to as planned. */
export type InjectedFault =
  | {
      kind: 'kill';
      n: number;
      target: StageName;
      aim: KillAim;
      at: number;
      pid: number;
      /** An invocation was in flight when the worker was last asked, just before the kill. */
      midBatch: boolean;
      /** The SQLite rollback journal was still there after the kill: the kill interrupted a transaction. */
      midTransaction: boolean;
      /** Milliseconds between the in-flight observation and the SIGKILL. */
      observedMsBefore?: number;
    }
  | { kind: OutageKind; at: number; endedAt: number; detail?: string };

export interface SkippedFault {
  kind: string;
  reason: string;
}

export interface DuplicateCause {
  id: string;
  deliveries: number;
  causes: string[];
}

/**
 * The documented window for a duplicate notification: SNS accepted a publish but the
 * notify function did not record it (its `notified` marker) before the batch was
 * retried — because the worker died (kill), the publish's response never came back
 * (SNS endpoint stalled or dropped the connection after accepting), or Redis could
 * not store or lost the marker (Redis stopped, unreachable or flushed). A duplicate whose
 * deliveries span none of those faults is unexplained and fails the run.
 */
const WINDOW_CAUSES = new Set<string>(['kill:notify', 'sns-stop', 'sns-down', 'redis-stop', 'redis-down', 'redis-flush']);

export function attributeDuplicates(deliveries: readonly Delivery[], faults: readonly InjectedFault[], slackMs = 2_000): { explained: DuplicateCause[]; unexplained: DuplicateCause[] } {
  const byId = new Map<string, number[]>();
  for (const d of deliveries) {
    let list = byId.get(d.id);
    if (!list) byId.set(d.id, (list = []));
    list.push(d.sentAt);
  }
  const explained: DuplicateCause[] = [];
  const unexplained: DuplicateCause[] = [];
  for (const [id, times] of byId) {
    if (times.length < 2) continue;
    times.sort((a, b) => a - b);
    const from = times[0]! - slackMs;
    const to = times[times.length - 1]! + slackMs;
    const causes = faults
      .filter((f) => {
        const name = f.kind === 'kill' ? `kill:${f.target}` : f.kind;
        if (!WINDOW_CAUSES.has(name)) return false;
        const end = f.kind === 'kill' ? f.at : f.endedAt;
        return f.at <= to && end >= from;
      })
      .map((f) => (f.kind === 'kill' ? `kill #${f.n} of notify` : f.kind));
    (causes.length ? explained : unexplained).push({ id, deliveries: times.length, causes: [...new Set(causes)] });
  }
  return { explained, unexplained };
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerdictInput {
  comparison: Comparison;
  faults: readonly InjectedFault[];
  skipped: readonly SkippedFault[];
  faultDeliveries: readonly Delivery[];
  /** Dead letters written by the event source mapping (retries exhausted) per run. */
  exhaustedDeadLetters: { clean: number; fault: number };
  drained: { clean: boolean; fault: boolean };
  plannedKills: number;
}

export function verdict(v: VerdictInput): { ok: boolean; checks: Check[]; duplicates: ReturnType<typeof attributeDuplicates> } {
  const c = v.comparison;
  const duplicates = attributeDuplicates(v.faultDeliveries, v.faults);
  const kills = v.faults.filter((f) => f.kind === 'kill').length;
  const list = (what: string, items: string[]) => (items.length ? `${items.length} ${what}: ${sample(items, 8)}` : '');
  const joined = (...parts: string[]) => parts.filter(Boolean).join('; ') || 'identical';
  const checks: Check[] = [
    { name: 'input identical in both runs', ok: c.inputIdentical, detail: c.inputIdentical ? 'same ticks, same bytes' : 'the two ticks topics differ: the comparison is void' },
    { name: 'both pipelines drained', ok: v.drained.clean && v.drained.fault, detail: `clean ${v.drained.clean ? 'yes' : 'NO'}, fault ${v.drained.fault ? 'yes' : 'NO'}` },
    { name: 'faults injected as planned', ok: v.skipped.length === 0 && kills >= v.plannedKills, detail: v.skipped.length ? v.skipped.map((s) => `${s.kind} skipped: ${s.reason}`).join('; ') : `${kills} kills, ${v.faults.length - kills} outages` },
    { name: 'indicator state per symbol identical', ok: c.states.differing.length === 0, detail: joined(list('symbols differ', c.states.differing)) },
    { name: 'latest snapshot per symbol identical', ok: c.snapshots.differing.length === 0, detail: joined(list('symbols differ', c.snapshots.differing)) },
    {
      name: 'bars identical (0 lost, 0 doubled)',
      ok: c.bars.lost.length + c.bars.extra.length + c.bars.differing.length === 0,
      detail: joined(list('bars lost', c.bars.lost), list('bars extra', c.bars.extra), list('bars differ', c.bars.differing), c.bars.ticksLost ? `${c.bars.ticksLost} ticks lost` : '', c.bars.ticksDoubled ? `${c.bars.ticksDoubled} ticks doubled` : ''),
    },
    { name: 'signal ids identical (SQLite)', ok: c.signals.lost.length + c.signals.extra.length + c.signals.differing.length === 0, detail: joined(list('lost', c.signals.lost), list('extra', c.signals.extra), list('differ', c.signals.differing)) },
    { name: 'recent signal ids identical (Redis)', ok: c.recent.lost.length + c.recent.extra.length === 0, detail: joined(list('lost', c.recent.lost), list('extra', c.recent.extra)) },
    { name: 'every signal notified at least once', ok: c.notifications.neverNotified.length === 0 && c.notifications.unknown.length === 0, detail: c.notifications.neverNotified.length + c.notifications.unknown.length ? joined(list('never notified', c.notifications.neverNotified), list('notified without a signal', c.notifications.unknown)) : 'all notified' },
    { name: 'clean run notified each signal exactly once', ok: c.notifications.clean.duplicates === 0, detail: `${c.notifications.clean.duplicates} duplicates` },
    {
      name: 'duplicate notifications only in the documented window',
      ok: duplicates.unexplained.length === 0,
      detail: `${c.notifications.fault.duplicates} duplicates; ${duplicates.unexplained.length ? list('unexplained', duplicates.unexplained.map((d) => d.id)) : 'all explained'}`,
    },
    { name: 'nothing dead-lettered after exhausted retries', ok: v.exhaustedDeadLetters.fault === 0 && v.exhaustedDeadLetters.clean === 0, detail: `clean ${v.exhaustedDeadLetters.clean}, fault ${v.exhaustedDeadLetters.fault}` },
  ];
  return { ok: checks.every((ch) => ch.ok), checks, duplicates };
}
