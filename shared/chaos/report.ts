/**
 * The chaos report as a terminal table, and the figures the docs quote. Pure.
 */
import type { ChaosReport } from './harness';
import type { InjectedFault } from './verdict';

export interface Headline {
  faults: { kills: number; midBatch: number; midTransaction: number; byStage: Record<string, number>; outages: Record<string, number> };
  recordsIn: { clean: number; fault: number };
  ticksCounted: { clean: number; fault: number };
  signals: { clean: number; fault: number };
  lost: number;
  doubled: number;
  duplicateNotifications: number;
  duplicatesByCause: Record<string, number>;
  drainMs: { clean: number | null; fault: number | null };
}

export function headline(r: ChaosReport): Headline {
  const kills = r.faults.filter((f): f is Extract<InjectedFault, { kind: 'kill' }> => f.kind === 'kill');
  const byStage: Record<string, number> = {};
  for (const k of kills) byStage[k.target] = (byStage[k.target] ?? 0) + 1;
  const outages: Record<string, number> = {};
  for (const f of r.faults) if (f.kind !== 'kill') outages[f.kind] = f.endedAt - f.at;
  const c = r.comparison;
  return {
    faults: { kills: kills.length, midBatch: kills.filter((k) => k.midBatch).length, midTransaction: kills.filter((k) => k.midTransaction).length, byStage, outages },
    recordsIn: { clean: r.clean.outcome.input.records, fault: r.fault.outcome.input.records },
    ticksCounted: { clean: r.clean.outcome.ticksInMinuteBars, fault: r.fault.outcome.ticksInMinuteBars },
    signals: { clean: r.clean.outcome.signals, fault: r.fault.outcome.signals },
    lost: c.bars.ticksLost + c.bars.lost.length + c.signals.lost.length + c.recent.lost.length + c.notifications.neverNotified.length + c.states.differing.length,
    doubled: c.bars.ticksDoubled + c.bars.extra.length + c.signals.extra.length + c.recent.extra.length,
    duplicateNotifications: c.notifications.fault.duplicates,
    duplicatesByCause: duplicatesByCause(r),
    drainMs: { clean: r.clean.drainMs, fault: r.fault.drainMs },
  };
}

export function formatReport(r: ChaosReport): string {
  const h = headline(r);
  const c = r.comparison;
  const s = (ms: number | null) => (ms === null ? 'not drained' : `${(ms / 1000).toFixed(1)} s`);
  const stages = Object.entries(h.faults.byStage).sort().map(([k, n]) => `${k} ${n}`).join(', ');
  const outages = Object.entries(h.faults.outages).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ') || 'none';
  const rows: [string, string, string][] = [
    ['faults injected', '-', `${h.faults.kills} kills (${h.faults.midBatch} mid-batch, ${h.faults.midTransaction} mid-SQLite-transaction; ${stages}); ${outages}`],
    ['records in (ticks)', String(h.recordsIn.clean), String(h.recordsIn.fault)],
    ['ticks counted in 1m bars', String(h.ticksCounted.clean), String(h.ticksCounted.fault)],
    ['bars (all intervals)', String(c.bars.clean), `${c.bars.fault} (${c.bars.lost.length} lost, ${c.bars.extra.length} extra, ${c.bars.differing.length} differ)`],
    ['indicator states', `${c.states.symbols} symbols`, `${c.states.differing.length} differ; snapshots: ${c.snapshots.differing.length} differ`],
    ['signals (SQLite)', String(c.signals.clean), `${c.signals.fault} (${c.signals.lost.length} lost, ${c.signals.extra.length} extra)`],
    ['recent signals (Redis)', String(c.recent.clean), `${c.recent.fault} (${c.recent.lost.length} lost, ${c.recent.extra.length} extra)`],
    ['signal messages on topic', String(r.clean.outcome.signalMessages.total), `${r.fault.outcome.signalMessages.total} (${r.fault.outcome.signalMessages.total - r.fault.outcome.signalMessages.distinct} re-published, deduped downstream)`],
    ['notifications (SQS)', `${c.notifications.clean.deliveries}`, `${c.notifications.fault.deliveries} for ${c.notifications.fault.distinct} ids; ${c.notifications.neverNotified.length} never notified`],
    ['duplicate notifications', String(c.notifications.clean.duplicates), `${c.notifications.fault.duplicates} (${r.duplicates.explained.length} ids in the window, ${r.duplicates.unexplained.length} unexplained)`],
    ['duplicates by cause', '-', fmtCauses(r)],
    ['dead letters', fmtDl(r.clean.outcome.deadLetters), fmtDl(r.fault.outcome.deadLetters)],
    ['worker restarts', fmtRestarts(r.clean.restarts), fmtRestarts(r.fault.restarts)],
    ['LOST / DOUBLED', '-', `${h.lost} / ${h.doubled}`],
    ['drain time', `${s(h.drainMs.clean)} after the feed`, `${s(h.drainMs.fault)} after the feed and the last fault`],
    ['caught up after', '-', fmtRecovery(r)],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(5, ...rows.map((x) => x[1].length));
  const line = (a: string, b: string, d: string) => `  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${d}`;
  const out = [line('', 'clean', 'fault'), line('-'.repeat(w0), '-'.repeat(w1), '-'.repeat(20)), ...rows.map(([a, b, d]) => line(a, b, d)), ''];
  for (const ch of r.checks) out.push(`  ${ch.ok ? 'PASS' : 'FAIL'}  ${ch.name}${ch.detail ? ` — ${ch.detail}` : ''}`);
  out.push('', `  ${r.ok ? 'RESULT: PASS — nothing lost, nothing doubled' : 'RESULT: FAIL'}`);
  return out.join('\n');
}

function fmtDl(d: Record<string, number>): string {
  const e = Object.entries(d);
  return e.length ? e.map(([k, n]) => `${k}: ${n}`).join(', ') : '0';
}

function fmtRestarts(r: Record<string, number>): string {
  const total = Object.values(r).reduce((a, b) => a + b, 0);
  return total ? `${total} (${Object.entries(r).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(', ')})` : '0';
}

/** Outages one by one; kills as median and worst. */
function fmtRecovery(r: ChaosReport): string {
  const rec = r.fault.recovery;
  const sec = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`);
  const parts = rec.filter((x) => !x.fault.startsWith('kill')).map((x) => `${x.fault} ${sec(x.recoveryMs)}`);
  const kills = rec.filter((x) => x.fault.startsWith('kill')).map((x) => x.recoveryMs);
  if (kills.length) {
    const known = kills.filter((k): k is number => k !== null).sort((a, b) => a - b);
    const median = known.length ? known[Math.floor((known.length - 1) / 2)]! : null;
    const never = kills.length - known.length;
    parts.push(`kills: median ${sec(median)}, worst ${never ? 'never' : sec(known[known.length - 1] ?? null)}`);
  }
  return `${parts.join(', ') || '-'} (lag <= ${r.fault.caughtUpLag})`;
}

/** Extra deliveries per fault (or combination of faults) they are attributed to. */
export function duplicatesByCause(r: Pick<ChaosReport, 'duplicates'>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of [...r.duplicates.explained, ...r.duplicates.unexplained]) {
    const key = d.causes.length ? [...new Set(d.causes.map((c) => c.replace(/^kill #\d+ of notify$/, 'notify killed')))].sort().join(' + ') : 'UNEXPLAINED';
    out[key] = (out[key] ?? 0) + d.deliveries - 1;
  }
  return out;
}

function fmtCauses(r: ChaosReport): string {
  const e = Object.entries(duplicatesByCause(r)).sort((a, b) => b[1] - a[1]);
  return e.length ? e.map(([k, n]) => `${k}: ${n}`).join(', ') : 'none';
}
