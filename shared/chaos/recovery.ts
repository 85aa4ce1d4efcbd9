/**
 * How long the pipeline took to catch up after each fault, from the consumer-lag
 * samples taken during the fault run. Pure.
 */
import type { InjectedFault } from './verdict';

export interface LagSample {
  t: number;
  /** Total uncommitted records over the run's consumer groups; null when the broker could not be asked. */
  lag: number | null;
}

export interface Recovery {
  fault: string;
  /** When the fault was over (a kill: the kill itself; an outage: the service back). */
  endedAt: number;
  /** From endedAt until lag first fell to the threshold again; null if it never did while sampled. */
  recoveryMs: number | null;
  /** Highest lag seen between the fault's start and its recovery. */
  peakLag: number;
}

/**
 * A fault is recovered from at the first sample after it ended whose lag is at most
 * `caughtUp` — the backlog a healthy pipeline carries at the feed's rate.
 */
export function recoveryTimes(samples: readonly LagSample[], faults: readonly InjectedFault[], caughtUp: number): Recovery[] {
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  return faults.map((f) => {
    const start = f.at;
    const endedAt = f.kind === 'kill' ? f.at : f.endedAt;
    let peak = 0;
    let recoveredAt: number | undefined;
    for (const s of sorted) {
      if (s.t < start) continue;
      if (s.lag !== null) peak = Math.max(peak, s.lag);
      if (s.t >= endedAt && s.lag !== null && s.lag <= caughtUp) {
        recoveredAt = s.t;
        break;
      }
    }
    return {
      fault: f.kind === 'kill' ? `kill #${f.n} ${f.target}` : f.kind,
      endedAt,
      recoveryMs: recoveredAt === undefined ? null : recoveredAt - endedAt,
      peakLag: peak,
    };
  });
}
