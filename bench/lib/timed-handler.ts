/**
 * Loaded by a local runtime worker in place of a stream function's handler module
 * (the benchmark rewrites `handlerModule` and names the real one in
 * BENCH_TARGET_HANDLER). It calls the real handler unchanged and prints one
 * measurement line per invocation: records, wall ms (what Lambda bills) and CPU ms.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { INVOCATION_LINE_PREFIX, type Invocation } from './invocations';

type Handler = (event: unknown, context: unknown) => unknown;

const target = process.env.BENCH_TARGET_HANDLER;
if (!target) throw new Error('bench/lib/timed-handler.ts: BENCH_TARGET_HANDLER must name the real handler module');
const repoRoot = resolve(import.meta.dirname, '..', '..');
const mod = (await import(pathToFileURL(isAbsolute(target) ? target : resolve(repoRoot, target)).href)) as { handler?: unknown };
if (typeof mod.handler !== 'function') throw new Error(`${target} does not export a function named "handler"`);
const inner = mod.handler as Handler;
const fn = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown';

function describeBatch(event: unknown): { records: number; topic: string } {
  const groups = (event as { records?: Record<string, unknown[]> } | null)?.records;
  if (!groups || typeof groups !== 'object') return { records: 0, topic: '' };
  let records = 0;
  for (const list of Object.values(groups)) records += Array.isArray(list) ? list.length : 0;
  // Keys are "<topic>-<partition>".
  const first = Object.keys(groups)[0] ?? '';
  return { records, topic: first.replace(/-\d+$/, '') };
}

export async function handler(event: unknown, context: unknown): Promise<unknown> {
  const start = Date.now();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let ok = false;
  try {
    const result = await inner(event, context);
    ok = true;
    return result;
  } finally {
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const line: Invocation = { fn, ...describeBatch(event), start, end: Date.now(), ms: Math.round(ms * 1000) / 1000, cpuMs: (cpu.user + cpu.system) / 1000, ok };
    process.stdout.write(`${INVOCATION_LINE_PREFIX}${JSON.stringify(line)}\n`);
  }
}
