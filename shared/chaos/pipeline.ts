/**
 * A whole stream pipeline (process, signal, notify, aggregate in supervised worker
 * processes, as `npm start` runs them) on one run's resources.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { TOPICS, type Topics } from '../config';
import { streamFunctions, type FunctionDefinition } from '../../local/runtime/functions';
import { startSupervisor, type Supervisor } from '../../local/runtime/supervisor';
import { silentLogger } from '../../local/runtime/logger';
import type { RunResources } from './resources';

export interface ConsumerGroup {
  function: string;
  groupId: string;
  topics: string[];
}

export interface RunPipeline {
  supervisor: Supervisor;
  functions: FunctionDefinition[];
  groups: ConsumerGroup[];
  /** Worker output lines seen so far (also written to the log file). */
  lines: number;
  stop(): Promise<void>;
}

/** Settings a diagnostic run may override on every event source (say, to find the retries a fault needs). */
export interface MappingOverrides {
  maxRetries?: number;
  maxRetryBackoffMs?: number;
}

/**
 * The stream functions exactly as functions.ts defines them, moved onto the run's
 * topics. The worker takes its definition from the supervisor, so the topic names in
 * it must already be the run's (the harness's own TOPICS are the default namespace).
 */
export function functionsForTopics(topics: Topics, overrides: MappingOverrides = {}): FunctionDefinition[] {
  const rename = new Map<string, string>(Object.entries(TOPICS).map(([k, v]) => [v, topics[k as keyof Topics]]));
  const move = (t: string): string => {
    const moved = rename.get(t);
    if (moved === undefined) throw new Error(`stream function topic ${t} is not one of TOPICS; the chaos harness cannot move it to its namespace`);
    return moved;
  };
  return streamFunctions().map((def) => ({
    ...def,
    eventSources: def.eventSources.map((es) => ({
      ...es,
      ...(overrides.maxRetries !== undefined ? { maxRetries: overrides.maxRetries } : {}),
      ...(overrides.maxRetryBackoffMs !== undefined ? { maxRetryBackoffMs: overrides.maxRetryBackoffMs } : {}),
      topics: es.topics.map(move),
      onFailureTopic: es.onFailureTopic === null ? null : move(es.onFailureTopic ?? TOPICS.deadLetter),
    })),
  }));
}

/** The consumer group each mapping uses: ConsumerGroupId, or the emulator's default for the function and topics. */
export function consumerGroups(functions: readonly FunctionDefinition[]): ConsumerGroup[] {
  return functions.flatMap((def) =>
    def.eventSources.map((es) => ({ function: def.name, groupId: es.groupId ?? `lambda-${def.name}-${[...es.topics].sort().join('+')}`, topics: es.topics })),
  );
}

export async function startRunPipeline(res: RunResources, opts: { logFile: string; overrides?: MappingOverrides; readyTimeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<RunPipeline> {
  const env = opts.env ?? res.env;
  const functions = functionsForTopics(res.topics, opts.overrides);
  const log: WriteStream = createWriteStream(opts.logFile, { flags: 'a' });
  const state = { lines: 0 };
  const supervisor = startSupervisor({
    functions,
    env: { ...env, RUNTIME_LOG_LEVEL: env.RUNTIME_LOG_LEVEL ?? 'info' },
    // Killed workers come back as Lambda would start a new environment: at once, not after a growing backoff.
    restartBackoffMs: 250,
    maxRestartBackoffMs: 2_000,
    logger: silentLogger,
    output: (line) => {
      state.lines++;
      log.write(`${new Date().toISOString()} [${res.label}] ${line}\n`);
    },
  });
  supervisor.on('exit', (name, code, signal) => log.write(`${new Date().toISOString()} [${res.label}] [supervisor] ${name} exited code=${code} signal=${signal}\n`));
  supervisor.on('ready', (name, pid) => log.write(`${new Date().toISOString()} [${res.label}] [supervisor] ${name} ready pid=${pid}\n`));
  try {
    await Promise.all(functions.map((f) => supervisor.waitUntilReady(f.name, opts.readyTimeoutMs ?? 120_000)));
  } catch (err) {
    await supervisor.stop();
    log.end();
    throw err;
  }
  return {
    supervisor,
    functions,
    groups: consumerGroups(functions),
    get lines() {
      return state.lines;
    },
    stop: async () => {
      await supervisor.stop();
      await new Promise<void>((r) => log.end(() => r()));
    },
  };
}
