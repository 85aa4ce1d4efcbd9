/**
 * What one run left behind, and how the fault run differs from the clean one.
 * Pure: the collectors (collect.ts) fill RunOutcome from Redis, SQLite, Kafka and
 * SQS; everything here is plain data, so the verdict logic is tested on its own.
 */

/** A bar row as SQLite stores it (all columns). */
export interface BarRow {
  symbol: string;
  interval: string;
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  pv: number;
  trades: number;
  [column: string]: string | number | null;
}

/** A signal row without created_at, which is the wall-clock time the signal stage saw it. */
export interface SignalRow {
  id: string;
  [column: string]: string | number | null;
}

/** One delivery of a notification to the run's SQS queue. */
export interface Delivery {
  id: string;
  /** SQS SentTimestamp: when SNS handed the message to the queue. */
  sentAt: number;
}

export interface RunOutcome {
  /** Ticks in the run's input topic, and a digest of their bytes in partition/offset order. */
  input: { records: number; digest: string };
  /** `{SYM}:state` engine part and offsets, per symbol; null when the key is missing. */
  states: Record<string, { engine: unknown; offsets: unknown } | null>;
  /** `{SYM}:snapshot` per symbol; null when missing. */
  snapshots: Record<string, unknown>;
  bars: BarRow[];
  signals: SignalRow[];
  /** Ids in the Redis recent-signals list. */
  recent: string[];
  deliveries: Delivery[];
  /** Messages on the run's signals topic and how many distinct ids they carry (re-publishes upstream show as the difference). */
  signalMessages: { total: number; distinct: number };
  /** Dead-letter topic contents by "function/reason". */
  deadLetters: Record<string, number>;
}

export interface SetDiff {
  clean: number;
  fault: number;
  lost: string[];
  extra: string[];
  differing: string[];
}

export interface Comparison {
  inputIdentical: boolean;
  states: { symbols: number; differing: string[] };
  snapshots: { symbols: number; differing: string[] };
  bars: SetDiff & {
    /** Ticks counted in the clean run's 1m bars but not in the fault run's. */
    ticksLost: number;
    /** Ticks counted more often in the fault run's 1m bars than in the clean run's. */
    ticksDoubled: number;
  };
  signals: SetDiff;
  recent: SetDiff;
  notifications: {
    clean: NotificationCounts;
    fault: NotificationCounts;
    /** Signal ids (from the fault run's SQLite) that never reached its queue. */
    neverNotified: string[];
    /** Notified ids that the run has no signal for. */
    unknown: string[];
  };
}

export interface NotificationCounts {
  deliveries: number;
  distinct: number;
  /** Deliveries beyond the first per id. */
  duplicates: number;
  duplicatedIds: string[];
}

const MAX_LISTED = 20;

export function compareRuns(clean: RunOutcome, fault: RunOutcome): Comparison {
  const symbols = [...new Set([...Object.keys(clean.states), ...Object.keys(fault.states)])].sort();
  const stateDiffers = symbols.filter((s) => canonical(clean.states[s] ?? null) !== canonical(fault.states[s] ?? null));
  const snapSymbols = [...new Set([...Object.keys(clean.snapshots), ...Object.keys(fault.snapshots)])].sort();
  const snapDiffers = snapSymbols.filter((s) => canonical(clean.snapshots[s] ?? null) !== canonical(fault.snapshots[s] ?? null));

  const barKey = (b: BarRow) => `${b.symbol}/${b.interval}/${b.start}`;
  const bars = diffRows(clean.bars, fault.bars, barKey);
  let ticksLost = 0;
  let ticksDoubled = 0;
  const faultMinuteBars = new Map(fault.bars.filter((b) => b.interval === '1m').map((b) => [barKey(b), b]));
  const cleanMinuteBars = new Map(clean.bars.filter((b) => b.interval === '1m').map((b) => [barKey(b), b]));
  for (const [k, c] of cleanMinuteBars) {
    const f = faultMinuteBars.get(k);
    const d = (f?.trades ?? 0) - c.trades;
    if (d < 0) ticksLost -= d;
    else ticksDoubled += d;
  }
  for (const [k, f] of faultMinuteBars) if (!cleanMinuteBars.has(k)) ticksDoubled += f.trades;

  const signals = diffRows(clean.signals, fault.signals, (s) => s.id);
  const recent = diffRows(clean.recent.map((id) => ({ id })), fault.recent.map((id) => ({ id })), (s) => s.id);

  const faultSignalIds = new Set(fault.signals.map((s) => s.id));
  const notifiedInFault = new Set(fault.deliveries.map((d) => d.id));
  const neverNotified = [...faultSignalIds].filter((id) => !notifiedInFault.has(id)).sort();
  const knownIds = new Set([...faultSignalIds, ...clean.signals.map((s) => s.id)]);
  const unknown = [...notifiedInFault].filter((id) => !knownIds.has(id)).sort();

  return {
    inputIdentical: clean.input.records === fault.input.records && clean.input.digest === fault.input.digest,
    states: { symbols: symbols.length, differing: stateDiffers },
    snapshots: { symbols: snapSymbols.length, differing: snapDiffers },
    bars: { ...bars, ticksLost, ticksDoubled },
    signals,
    recent,
    notifications: { clean: countDeliveries(clean.deliveries), fault: countDeliveries(fault.deliveries), neverNotified, unknown },
  };
}

export function countDeliveries(deliveries: readonly Delivery[]): NotificationCounts {
  const counts = new Map<string, number>();
  for (const d of deliveries) counts.set(d.id, (counts.get(d.id) ?? 0) + 1);
  const duplicatedIds = [...counts].filter(([, n]) => n > 1).map(([id]) => id).sort();
  return { deliveries: deliveries.length, distinct: counts.size, duplicates: deliveries.length - counts.size, duplicatedIds };
}

function diffRows<T>(clean: readonly T[], fault: readonly T[], key: (row: T) => string): SetDiff {
  const c = new Map(clean.map((r) => [key(r), canonical(r)]));
  const f = new Map(fault.map((r) => [key(r), canonical(r)]));
  const lost: string[] = [];
  const differing: string[] = [];
  for (const [k, v] of c) {
    const other = f.get(k);
    if (other === undefined) lost.push(k);
    else if (other !== v) differing.push(k);
  }
  const extra = [...f.keys()].filter((k) => !c.has(k));
  return { clean: c.size, fault: f.size, lost: lost.sort(), extra: extra.sort(), differing: differing.sort() };
}

/** JSON with object keys sorted, so equal data compares equal whatever order it was built in. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/** The first few entries of a long list, for a report line. */
export function sample(items: readonly string[], max = MAX_LISTED): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')}, … (${items.length - max} more)`;
}
