/**
 * CPU time of other processes from /proc (Linux only): the kernel's own
 * accounting, so a worker's CPU is measured without instrumenting it.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** Kernel clock ticks per second (USER_HZ), the unit of utime/stime in /proc/<pid>/stat. */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(out.stdout?.trim());
    clockTicks = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/**
 * User + system CPU milliseconds a process has used so far, or undefined when it
 * is gone. Resolution is one clock tick (10 ms at USER_HZ=100), so deltas are only
 * meaningful over runs that burn at least a few hundred ms.
 */
export function processCpuMs(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' are fixed.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so utime (field 14) and stime (field 15) sit at 11 and 12.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1000) / clockTicksPerSecond();
}

/** CPU ms per named process; names whose pid is unknown or gone are left out. */
export function sampleCpu(pids: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const ms = pid === undefined ? undefined : processCpuMs(pid);
    if (ms !== undefined) out[name] = ms;
  }
  return out;
}

/**
 * CPU milliseconds the whole machine has spent busy (all cores; everything but idle
 * and iowait) since boot, from /proc/stat. Compared with the sum over known processes
 * it shows how much of a phase's CPU went to other tenants of a shared machine.
 */
export function machineBusyCpuMs(): number | undefined {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  } catch {
    return undefined;
  }
  const f = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((x) => !Number.isFinite(x))) return undefined;
  // user nice system idle iowait irq softirq steal …; steal is time the hypervisor gave elsewhere, so it is not counted as ours.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = f;
  return ((user + nice + system + irq + softirq) * 1000) / clockTicksPerSecond();
}

/**
 * Pids of processes whose command line matches each pattern (the first match by
 * lowest pid), found by scanning /proc: the local services may have been restarted
 * by someone else since their pid files were written.
 */
export function findPidsByCommandLine(patterns: Record<string, RegExp>): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = Object.fromEntries(Object.keys(patterns).map((k) => [k, undefined]));
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).sort((a, b) => Number(a) - Number(b));
  } catch {
    return out;
  }
  for (const e of entries) {
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    for (const [name, re] of Object.entries(patterns)) if (out[name] === undefined && re.test(cmd)) out[name] = Number(e);
  }
  return out;
}

/** The one-letter state of a process (R running, S sleeping, T stopped by a signal, …), or undefined when it is gone. */
export function processState(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/**
 * Watches shared services for being frozen (SIGSTOP, state T), as a chaos run on
 * the same stack does to Redis and moto: a benchmark phase that overlaps such an
 * outage measures the outage, and must say so.
 */
export class FreezeWatch {
  private readonly frozenMs: Record<string, number> = {};
  private timer: NodeJS.Timeout | undefined;
  private last = performance.now();

  constructor(private readonly pids: () => Record<string, number | undefined>, private readonly intervalMs = 100) {}

  start(): void {
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const dt = now - this.last;
      this.last = now;
      for (const [name, pid] of Object.entries(this.pids())) {
        if (pid !== undefined && processState(pid) === 'T') this.frozenMs[name] = (this.frozenMs[name] ?? 0) + dt;
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Cumulative frozen ms per service since start. */
  totals(): Record<string, number> {
    return { ...this.frozenMs };
  }
}

/** Command lines of running processes that match `re` (e.g. another chaos run on the shared stack). */
export function processesMatching(re: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (re.test(cmd)) out.push(`${e} ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
