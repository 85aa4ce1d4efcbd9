/**
 * The fault schedule: seeded, complete, and with outages that never overlap.
 * Pure logic; lives with the chaos harness's other tests.
 */
import { describe, expect, it } from '@jest/globals';
import { defaultWindowMs, OUTAGE_KINDS, planFaults, PlanError, STAGES, type KillFault, type OutageFault } from '../../../shared/chaos/plan';

const all = [...OUTAGE_KINDS];

describe('planFaults', () => {
  it('gives the same schedule for the same seed and a different one for another seed', () => {
    const a = planFaults({ seed: 7, kills: 20, windowMs: 200_000, outages: all });
    const b = planFaults({ seed: 7, kills: 20, windowMs: 200_000, outages: all });
    const c = planFaults({ seed: 8, kills: 20, windowMs: 200_000, outages: all });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('schedules every kill and each outage once, kills spread evenly over the four stages', () => {
    const plan = planFaults({ seed: 3, kills: 22, windowMs: 200_000, outages: all });
    const kills = plan.filter((f): f is KillFault => f.kind === 'kill');
    expect(kills).toHaveLength(22);
    expect(kills.map((k) => k.n).sort((x, y) => x - y)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
    // 22 kills over 4 stages: two stages get 6, two get 5.
    const perStage = STAGES.map((s) => kills.filter((k) => k.target === s).length).sort();
    expect(perStage).toEqual([5, 5, 6, 6]);
    expect(plan.filter((f) => f.kind !== 'kill').map((f) => f.kind).sort()).toEqual([...all].sort());
  });

  it('keeps outages apart by the gap and inside the middle 84% of the feed', () => {
    for (let seed = 0; seed < 25; seed++) {
      const windowMs = 190_000;
      const outages = planFaults({ seed, kills: 0, windowMs, outages: all, gapMs: 5_000 }) as OutageFault[];
      const sorted = [...outages].sort((x, y) => x.atMs - y.atMs);
      for (let i = 1; i < sorted.length; i++) {
        const prev = sorted[i - 1]!;
        expect(sorted[i]!.atMs - (prev.atMs + prev.durationMs)).toBeGreaterThanOrEqual(5_000 - 1);
      }
      expect(sorted[0]!.atMs).toBeGreaterThanOrEqual(0.08 * windowMs - 1);
      const last = sorted[sorted.length - 1]!;
      expect(last.atMs + last.durationMs).toBeLessThanOrEqual(0.92 * windowMs + 1);
    }
  });

  it('aims aggregate kills at its SQLite transaction, the others at an invocation, and every fifth kill at any moment', () => {
    const kills = planFaults({ seed: 11, kills: 40, windowMs: 200_000, outages: [] }) as KillFault[];
    expect(kills.filter((k) => k.aim === 'anytime').map((k) => k.n)).toEqual([5, 10, 15, 20, 25, 30, 35, 40]);
    const aimed = kills.filter((k) => k.aim !== 'anytime');
    expect(aimed.filter((k) => k.target === 'aggregate').every((k) => k.aim === 'mid-transaction')).toBe(true);
    expect(aimed.filter((k) => k.target !== 'aggregate').every((k) => k.aim === 'mid-batch')).toBe(true);
  });

  it('refuses a feed too short for the outages, naming the length that would do', () => {
    // 10 + 10 + 0 + 45 + 30 + 30 s of outages and 5 gaps of 5 s = 150 s, which must fit in 84% of the feed: 179 s.
    expect(() => planFaults({ seed: 1, kills: 0, windowMs: 120_000, outages: all })).toThrow(PlanError);
    expect(() => planFaults({ seed: 1, kills: 0, windowMs: 120_000, outages: all })).toThrow(/at least 179 s/);
    expect(() => planFaults({ seed: 1, kills: 0, windowMs: 179_000, outages: all })).not.toThrow();
  });

  it('rejects nonsense counts', () => {
    expect(() => planFaults({ seed: -1, kills: 1, windowMs: 1000, outages: [] })).toThrow(/seed/);
    expect(() => planFaults({ seed: 1, kills: 1.5, windowMs: 1000, outages: [] })).toThrow(/kills/);
    expect(() => planFaults({ seed: 1, kills: 1, windowMs: 0, outages: [] })).toThrow(/windowMs/);
  });
});

describe('defaultWindowMs', () => {
  it('fits all outages (150 s / 0.84 + 10 s, rounded up to whole seconds)', () => {
    expect(defaultWindowMs(20, all)).toBe(189_000);
  });
  it('gives kills 2.5 s each once they need more than that, and never less than 2 minutes', () => {
    expect(defaultWindowMs(100, all)).toBe(250_000);
    expect(defaultWindowMs(4, [])).toBe(120_000);
  });
});
