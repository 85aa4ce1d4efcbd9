/**
 * Fault injectors. Each one does one thing to the real local services or to a
 * worker process and reports what actually happened, with wall-clock times, so the
 * verdict can line effects up with causes.
 *
 * A service stopped with SIGSTOP is always resumed: after its outage, on any error,
 * and at process exit (resumeAll), so a crashed harness never leaves a developer's
 * Redis or moto frozen.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Supervisor } from '../../local/runtime/supervisor';
import type { KillAim, StageName } from './plan';
import type { InjectedFault } from './verdict';

export type KillRecord = Extract<InjectedFault, { kind: 'kill' }>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const suspended = new Set<number>();

/** SIGCONT for every process this module stopped and has not resumed yet. Synchronous: safe in an exit handler. */
export function resumeAll(): number[] {
  const pids = [...suspended];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // already gone
    }
    suspended.delete(pid);
  }
  return pids;
}

/** Stops a process for `ms` (SIGSTOP … SIGCONT): it keeps its sockets and memory, it just stops answering. */
export async function suspendFor(pid: number, ms: number, shouldStop: () => boolean = () => false): Promise<{ at: number; endedAt: number }> {
  const at = Date.now();
  process.kill(pid, 'SIGSTOP');
  suspended.add(pid);
  try {
    const until = at + ms;
    while (Date.now() < until && !shouldStop()) await sleep(Math.min(250, until - Date.now()));
  } finally {
    process.kill(pid, 'SIGCONT');
    suspended.delete(pid);
  }
  return { at, endedAt: Date.now() };
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** The pid listening on a local TCP port, from the socket table. */
export function listenerPid(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Redis reports its own pid; only a local redis-server of this machine can be stopped. */
export async function redisServerPid(redisUrl: string): Promise<number> {
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await r.connect();
    const info = await r.info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    if (!pid || !cmdline(pid).includes('redis-server')) throw new Error(`Redis at ${redisUrl} reports pid ${pid || '?'}, which is not a redis-server process on this machine`);
    return pid;
  } finally {
    r.disconnect();
  }
}

/** The moto server behind AWS_ENDPOINT_URL: from the stack's pid file, else the port's listener. */
export function motoPid(root: string, endpoint: string | undefined): number {
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL is not set: SNS is not a local moto server, so it cannot be stopped');
  const u = new URL(endpoint);
  if (!['localhost', '127.0.0.1', '::1'].includes(u.hostname)) throw new Error(`AWS_ENDPOINT_URL ${endpoint} is not local`);
  const file = join(root, '.local', 'run', 'moto.pid');
  const fromFile = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : undefined;
  const candidates = [fromFile, listenerPid(Number(u.port || 80))].filter((p): p is number => !!p);
  const pid = candidates.find((p) => cmdline(p).includes('moto'));
  if (!pid) throw new Error(`no moto_server process found for ${endpoint} (pid file ${file}, port listener)`);
  return pid;
}

/**
 * Restarts the broker through the stack script, as an operator would. Resolves with
 * how long the broker was away; throws if the script failed or no new broker
 * process came up.
 */
export async function restartKafka(root: string, port: number, onLine: (line: string) => void): Promise<{ at: number; endedAt: number; detail: string }> {
  const before = listenerPid(port);
  const at = Date.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('bash', [join(root, 'scripts', 'stack.sh'), 'restart', 'kafka'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    for (const s of [child.stdout, child.stderr]) s.on('data', (b: Buffer) => b.toString('utf8').split('\n').filter(Boolean).forEach(onLine));
    child.on('error', reject);
    child.on('exit', resolve);
  });
  const endedAt = Date.now();
  const after = listenerPid(port);
  if (code !== 0) throw new Error(`scripts/stack.sh restart kafka exited with ${code}`);
  if (before !== undefined && after === before) throw new Error(`the broker on port ${port} is still pid ${before}: scripts/stack.sh did not restart it (was it started by another tool?)`);
  return { at, endedAt, detail: `broker pid ${before ?? '?'} → ${after ?? '?'}` };
}

export async function flushRedisDb(redisUrl: string): Promise<{ at: number; endedAt: number; detail: string }> {
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    const keys = await r.dbsize();
    const at = Date.now();
    await r.flushdb();
    return { at, endedAt: Date.now(), detail: `FLUSHDB of ${redisUrl} (${keys} keys)` };
  } finally {
    r.disconnect();
  }
}

/** Sum over a worker's mappings of invocations started but not finished. */
export function inFlight(stats: Record<string, unknown>): number {
  let n = 0;
  for (const s of Object.values(stats)) {
    const m = s as { invocations?: number; succeededInvocations?: number; failedInvocations?: number };
    n += (m.invocations ?? 0) - (m.succeededInvocations ?? 0) - (m.failedInvocations ?? 0);
  }
  return n;
}

/**
 * SIGKILL of one stage's worker, aimed:
 *  - mid-batch: waits (up to maxAimMs) until the worker reports an invocation in flight;
 *  - mid-transaction: waits until the SQLite rollback journal exists, i.e. the
 *    aggregate function is inside its write transaction (journal_mode=DELETE);
 *  - anytime: at once.
 * After the kill, a journal left behind proves the transaction was cut (SQLite rolls
 * it back on the next open).
 */
export async function killWorker(
  supervisor: Supervisor,
  target: StageName,
  aim: KillAim,
  n: number,
  opts: { sqlitePath: string; maxAimMs?: number; readyTimeoutMs?: number; shouldStop?: () => boolean },
): Promise<KillRecord> {
  const pid = await supervisor.waitUntilReady(target, opts.readyTimeoutMs ?? 90_000);
  const journal = `${opts.sqlitePath}-journal`;
  const deadline = Date.now() + (opts.maxAimMs ?? 8_000);
  let observedAt: number | undefined;
  if (aim === 'mid-transaction') {
    while (Date.now() < deadline && !opts.shouldStop?.()) {
      if (existsSync(journal)) {
        observedAt = Date.now();
        break;
      }
      await sleep(1);
    }
  } else if (aim === 'mid-batch') {
    while (Date.now() < deadline && !opts.shouldStop?.()) {
      const stats = await supervisor.stats(target, 2_000).catch(() => undefined);
      if (stats && inFlight(stats) > 0) {
        observedAt = Date.now();
        break;
      }
      await sleep(3);
    }
  } else {
    const stats = await supervisor.stats(target, 1_000).catch(() => undefined);
    if (stats && inFlight(stats) > 0) observedAt = Date.now();
  }
  const victim = supervisor.pids()[target] ?? pid;
  const exited = new Promise<void>((resolve) => {
    const timer = setTimeout(done, 3_000);
    function done(): void {
      clearTimeout(timer);
      supervisor.off('exit', onExit);
      resolve();
    }
    function onExit(name: string): void {
      if (name === target) done();
    }
    supervisor.on('exit', onExit);
  });
  const at = Date.now();
  try {
    process.kill(victim, 'SIGKILL');
  } catch {
    // died on its own meanwhile; the supervisor restarts it either way
  }
  // Looked at once the process is gone and before its successor opens the file (which would roll the journal back).
  await exited;
  const midTransaction = target === 'aggregate' && existsSync(journal);
  return {
    kind: 'kill', n, target, aim, at, pid: victim,
    midBatch: observedAt !== undefined || midTransaction,
    midTransaction,
    ...(observedAt !== undefined ? { observedMsBefore: at - observedAt } : {}),
  };
}
