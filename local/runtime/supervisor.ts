/**
 * Runs each stream function in its own worker process and keeps it running:
 * a worker that dies (crash, timeout recycle, kill -9 from a chaos harness) is
 * restarted with exponential backoff, as Lambda would start a fresh execution
 * environment, and resumes from its consumer group's committed offsets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './function-loader';
import type { FunctionDefinition } from './functions';
import { createConsoleLogger, type RuntimeLogger } from './logger';
import type { WorkerMessage } from './worker';

export const WORKER_ENTRY = resolve(import.meta.dirname, 'worker.ts');

export interface SupervisorOptions {
  functions: FunctionDefinition[];
  /** Base environment for the workers. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** First restart delay; doubles while a worker keeps dying young. Default 500. */
  restartBackoffMs?: number;
  maxRestartBackoffMs?: number;
  /** A worker up this long counts as healthy, and its next restart starts from restartBackoffMs again. Default 10000. */
  stableAfterMs?: number;
  /** How long stop() waits for a worker to exit after SIGTERM before SIGKILL. Default 15000. */
  stopTimeoutMs?: number;
  /** Where prefixed worker output goes. Default stdout. */
  output?: (line: string) => void;
  /** Stop the workers and exit on SIGINT/SIGTERM. Default false (a library should not own signals). */
  handleSignals?: boolean;
  logger?: RuntimeLogger;
}

interface Slot {
  def: FunctionDefinition;
  child?: ChildProcess;
  ready: boolean;
  restarts: number;
  backoffMs: number;
  startedAt: number;
  restartTimer?: NodeJS.Timeout;
}

export interface SupervisorEvents {
  ready: [name: string, pid: number];
  exit: [name: string, code: number | null, signal: NodeJS.Signals | null];
  restart: [name: string, delayMs: number, restarts: number];
}

export interface Supervisor extends EventEmitter<SupervisorEvents> {
  /** Current worker pid per function (undefined while restarting). */
  pids(): Record<string, number | undefined>;
  restarts(name: string): number;
  /** Resolves with the pid of a worker whose mappings are running. */
  waitUntilReady(name: string, timeoutMs?: number): Promise<number>;
  /** Asks a worker for its mappings' counters. */
  stats(name: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export function startSupervisor(opts: SupervisorOptions): Supervisor {
  const names = new Set<string>();
  for (const def of opts.functions) {
    if (names.has(def.name)) throw new Error(`startSupervisor: function "${def.name}" is listed twice`);
    names.add(def.name);
  }
  const logger = opts.logger ?? createConsoleLogger('supervisor');
  const output = opts.output ?? ((line: string) => process.stdout.write(`${line}\n`));
  const baseBackoff = opts.restartBackoffMs ?? 500;
  const maxBackoff = opts.maxRestartBackoffMs ?? 10_000;
  const stableAfter = opts.stableAfterMs ?? 10_000;
  const emitter = new EventEmitter<SupervisorEvents>();
  const slots = new Map<string, Slot>();
  let stopping = false;

  const spawnWorker = (slot: Slot): void => {
    const { def } = slot;
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER_ENTRY, def.name], {
      cwd: REPO_ROOT,
      env: { ...(opts.env ?? process.env), LOCAL_RUNTIME_FUNCTION: JSON.stringify(def) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    slot.child = child;
    slot.ready = false;
    slot.startedAt = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => output(`[${def.name}] ${line}`));
    }
    child.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'ready') {
        slot.ready = true;
        emitter.emit('ready', def.name, msg.pid);
      }
    });
    child.on('error', (err) => logger.error('worker spawn failed', { function: def.name, error: err.message }));
    child.on('exit', (code, signal) => {
      if (slot.child === child) {
        slot.child = undefined;
        slot.ready = false;
      }
      emitter.emit('exit', def.name, code, signal);
      if (stopping) return;
      const uptime = Date.now() - slot.startedAt;
      slot.backoffMs = uptime >= stableAfter ? baseBackoff : Math.min(maxBackoff, slot.restarts === 0 ? baseBackoff : slot.backoffMs * 2);
      slot.restarts++;
      logger.warn('worker exited; restarting', { function: def.name, code, signal, uptimeMs: uptime, delayMs: slot.backoffMs, restarts: slot.restarts });
      emitter.emit('restart', def.name, slot.backoffMs, slot.restarts);
      slot.restartTimer = setTimeout(() => {
        slot.restartTimer = undefined;
        if (!stopping) spawnWorker(slot);
      }, slot.backoffMs);
    });
  };

  for (const def of opts.functions) {
    const slot: Slot = { def, ready: false, restarts: 0, backoffMs: baseBackoff, startedAt: Date.now() };
    slots.set(def.name, slot);
    spawnWorker(slot);
  }

  const slotOf = (name: string): Slot => {
    const slot = slots.get(name);
    if (!slot) throw new Error(`No supervised function "${name}"; known: ${[...slots.keys()].join(', ')}`);
    return slot;
  };

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      await Promise.all(
        [...slots.values()].map(async (slot) => {
          if (slot.restartTimer) clearTimeout(slot.restartTimer);
          const child = slot.child;
          if (!child || child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise<void>((res) => child.once('exit', () => res()));
          child.kill('SIGTERM');
          const timer = setTimeout(() => {
            logger.warn('worker ignored SIGTERM; killing', { function: slot.def.name });
            child.kill('SIGKILL');
          }, opts.stopTimeoutMs ?? 15_000);
          await exited;
          clearTimeout(timer);
        }),
      );
    })();
    return stopped;
  };

  if (opts.handleSignals) {
    const onSignal = (sig: NodeJS.Signals): void => {
      logger.info(`received ${sig}; stopping workers`);
      void stop().then(() => process.exit(0));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  return Object.assign(emitter, {
    pids: () => Object.fromEntries([...slots].map(([name, slot]) => [name, slot.child?.pid])),
    restarts: (name: string) => slotOf(name).restarts,
    waitUntilReady: (name: string, timeoutMs = 60_000) => {
      const slot = slotOf(name);
      if (slot.ready && slot.child?.pid !== undefined) return Promise.resolve(slot.child.pid);
      return new Promise<number>((res, rej) => {
        const timer = setTimeout(() => {
          emitter.off('ready', onReady);
          rej(new Error(`worker "${name}" not ready after ${timeoutMs} ms`));
        }, timeoutMs);
        const onReady = (n: string, pid: number): void => {
          if (n !== name) return;
          clearTimeout(timer);
          emitter.off('ready', onReady);
          res(pid);
        };
        emitter.on('ready', onReady);
      });
    },
    stats: (name: string, timeoutMs = 5_000) => {
      const child = slotOf(name).child;
      if (!child?.connected) return Promise.reject(new Error(`worker "${name}" is not running`));
      return new Promise<Record<string, unknown>>((res, rej) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          rej(new Error(`worker "${name}" did not report stats within ${timeoutMs} ms`));
        }, timeoutMs);
        const onMessage = (msg: WorkerMessage): void => {
          if (msg.type !== 'stats') return;
          clearTimeout(timer);
          child.off('message', onMessage);
          res(msg.stats);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats' });
      });
    },
    stop,
  });
}
