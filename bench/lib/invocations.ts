/**
 * Per-invocation measurements that bench/lib/timed-handler.ts prints from inside a
 * worker, and their totals. One stdout line per invocation: the supervisor already
 * forwards worker output, so no extra channel is needed.
 */

export const INVOCATION_LINE_PREFIX = 'BENCH_INVOKE ';

export interface Invocation {
  /** Function name (the worker's AWS_LAMBDA_FUNCTION_NAME). */
  fn: string;
  /** Topic of the batch's first record (aggregate has one mapping per topic). */
  topic: string;
  /** Records in the event. */
  records: number;
  /** Epoch ms when the handler was called and when it settled. */
  start: number;
  end: number;
  /** Wall time of the invocation, what Lambda bills (rounded up to 1 ms per invocation). */
  ms: number;
  /** process.cpuUsage() delta over the invocation: the handler, plus whatever else the worker's event loop ran meanwhile. */
  cpuMs: number;
  ok: boolean;
}

/** Parses one line of supervisor output (`[name] BENCH_INVOKE {...}`); undefined for any other line. */
export function parseInvocationLine(line: string): Invocation | undefined {
  const at = line.indexOf(INVOCATION_LINE_PREFIX);
  if (at < 0) return undefined;
  try {
    const v = JSON.parse(line.slice(at + INVOCATION_LINE_PREFIX.length)) as Invocation;
    return typeof v.fn === 'string' && Number.isFinite(v.records) && Number.isFinite(v.ms) ? v : undefined;
  } catch {
    return undefined;
  }
}

export interface InvocationTotals {
  invocations: number;
  failed: number;
  records: number;
  /** Sum of per-invocation wall time, each rounded up to a whole ms as Lambda bills it. */
  billedMs: number;
  cpuMs: number;
  firstStart?: number;
  lastEnd?: number;
}

export function totalInvocations(list: readonly Invocation[]): InvocationTotals {
  const t: InvocationTotals = { invocations: 0, failed: 0, records: 0, billedMs: 0, cpuMs: 0 };
  for (const inv of list) {
    t.invocations++;
    if (!inv.ok) t.failed++;
    t.records += inv.records;
    t.billedMs += Math.max(1, Math.ceil(inv.ms));
    t.cpuMs += inv.cpuMs;
    if (t.firstStart === undefined || inv.start < t.firstStart) t.firstStart = inv.start;
    if (t.lastEnd === undefined || inv.end > t.lastEnd) t.lastEnd = inv.end;
  }
  return t;
}
