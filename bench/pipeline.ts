/**
 * npm run bench:pipeline [-- --records N] [--mode http|kafka|both] [--rate N] [--duration S] …
 *
 * The whole local pipeline (ingest, process, signal, notify, aggregate as worker
 * processes on the Kafka event source mapping emulator, the API behind the API
 * Gateway adapter) in an isolated sandbox on the running local stack. In one run:
 *
 *  1. Kafka's ProducerPerformance and ConsumerPerformance against the same broker,
 *     with payloads that are our own tick records (the reference numbers);
 *  2. sustained throughput: N seeded ticks sent as fast as possible through
 *     POST /ticks and/or straight to Kafka, timed until process (and aggregate)
 *     have committed all of them;
 *  3. tick-to-signal latency at a fixed rate;
 *  4. CPU per 1,000 records of each handler, and the Lambda cost per million ticks.
 *
 * Prints tables and writes artifacts/bench-pipeline.json (worker output goes to
 * artifacts/bench-pipeline.log). Targets are reported, not asserted.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createAdmin, createConsumer, createProducer, loadKafkaConfig, produceRecords, type KafkaAdmin, type KafkaProducer } from '../shared/adapters/kafka';
import { consumerGroups, functionsForTopics } from '../shared/chaos/pipeline';
import { createProgress, formatCount } from '../shared/engine/progress';
import { MarketGenerator } from '../shared/generator/generator';
import { SCENARIO_NAMES, type ScenarioName } from '../shared/generator/scenarios';
import { universeOfSize } from '../shared/generator/universe';
import { loadEngineConfig, loadRulesConfig } from '../shared/pipeline/stage-config';
import { MAX_PAST_MS, type PriceRecord } from '../shared/schema/records';
import type { Topics } from '../shared/config';
import { silentLogger } from '../local/runtime/logger';
import type { FunctionDefinition } from '../local/runtime/functions';
import { startSupervisor, type Supervisor } from '../local/runtime/supervisor';
import { createSandbox, type Sandbox } from '../local/sandbox';
import type { ApiServerMessage, IngestStats } from './lib/api-server';
import { parseInvocationLine, totalInvocations, type Invocation, type InvocationTotals } from './lib/invocations';
import { consumerPerformance, kafkaToolsAvailable, producerPerformance, type ConsumerPerfResult, type ProducerPerfResult } from './lib/kafka-perf';
import { costPerMillionTicks, LAMBDA_ARM64_PRICE_PER_GB_SECOND, LAMBDA_PRICE_PER_MILLION_REQUESTS, requestsAtFullBatches } from './lib/lambda-cost';
import { buildLatencySeries, effectKey, LATENCY_SYMBOL_PREFIX } from './lib/latency-series';
import { postTicks, sendOverHttp, sendPaced, sendToKafka, tickRecordsFor, type SendCounters, type SendResult } from './lib/load';
import { lagOf, snapshotOffsets, type GroupRef, type OffsetSnapshot } from './lib/offsets';
import { findPidsByCommandLine, FreezeWatch, machineBusyCpuMs, processesMatching, sampleCpu } from './lib/proc';
import { profilesOf, summarizeCpuProfile, type SelfTime } from './lib/cpu-profile';
import { ARTIFACTS_DIR, distribution, formatTable, machineInfo, median, saveArtifact, type Distribution } from './lib/report';

// ---------------------------------------------------------------------------
// Options

const USAGE = `Usage: npm run bench:pipeline -- [options]
  --records N           ticks per throughput run (default 200000)
  --mode M              http | kafka | both: how throughput runs feed the pipeline (default both)
  --symbols N           symbols in the throughput runs (default 50)
  --concurrency N       parallel senders, each owning a share of the symbols (default 4)
  --reps N              repetitions of the Kafka tools and throughput runs; medians are reported (default 3)
  --rate N              ticks/s of the fixed-rate latency run (default 2000)
  --duration S          seconds of the latency run (default 30)
  --latency-symbols N   symbols in the latency run (default 20)
  --ticks-per-bar N     ticks per bar in the latency run; every N-th tick closes a bar (default 5)
  --latency-path P      http | kafka: how latency ticks enter (default http)
  --warmup S            latency samples from the first S seconds are reported apart (default 3)
  --memory LIST         Lambda memory per function in MB, e.g. process=2048,signal=256
                        (default: infra/stacks/functions-stack.ts — process 1024, aggregate 1024, others 512)
  --seed N              generator seed (default 42)
  --scenario NAME       ${SCENARIO_NAMES.join(' | ')} (default mixed)
  --phase-timeout S     give up on a phase after S seconds (default 240)
  --window LIST         what-if: batching window per function in ms, e.g. signal=0,notify=0 (default: functions.ts)
  --lanes LIST          what-if: concurrent batch lanes per function's mapping, e.g. process=3 (default: functions.ts)
  --no-kafka-tools      skip ProducerPerformance / ConsumerPerformance
  --no-latency          skip the latency run
  --cpu-prof DIR        write V8 CPU profiles of the workers and the API process to DIR and print where their time went
  -h, --help`;

class UsageError extends Error {}

function parseOptions(argv: string[]) {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      records: { type: 'string', default: '200000' },
      mode: { type: 'string', default: 'both' },
      symbols: { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '4' },
      reps: { type: 'string', default: '3' },
      window: { type: 'string', default: '' },
      lanes: { type: 'string', default: '' },
      rate: { type: 'string', default: '2000' },
      duration: { type: 'string', default: '30' },
      'latency-symbols': { type: 'string', default: '20' },
      'ticks-per-bar': { type: 'string', default: '5' },
      'latency-path': { type: 'string', default: 'http' },
      warmup: { type: 'string', default: '3' },
      memory: { type: 'string', default: '' },
      seed: { type: 'string', default: '42' },
      scenario: { type: 'string', default: 'mixed' },
      'phase-timeout': { type: 'string', default: '240' },
      'no-kafka-tools': { type: 'boolean', default: false },
      'no-latency': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const int = (name: keyof typeof a, min: number, max: number): number => {
    const raw = String(a[name]);
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return n;
  };
  const oneOf = <T extends string>(name: keyof typeof a, allowed: readonly T[]): T => {
    const v = String(a[name]);
    if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${v}"`);
    return v as T;
  };
  const memory: Record<string, number> = { ...DEFAULT_MEMORY_MB };
  for (const part of String(a.memory).split(',').filter(Boolean)) {
    const m = /^([a-z]+)=(\d+)$/.exec(part.trim());
    if (!m || !(m[1]! in DEFAULT_MEMORY_MB)) throw new UsageError(`--memory entries are NAME=MB with NAME one of ${Object.keys(DEFAULT_MEMORY_MB).join(', ')}; got "${part}"`);
    const mb = Number(m[2]);
    if (mb < 128 || mb > 10_240) throw new UsageError(`--memory ${m[1]} must be 128..10240 MB (Lambda's range), got ${mb}`);
    memory[m[1]!] = mb;
  }
  const perFunction = (name: 'window' | 'lanes', min: number, max: number): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const part of String(a[name]).split(',').filter(Boolean)) {
      const m = /^([a-z]+)=(\d+)$/.exec(part.trim());
      if (!m || !STREAM_FUNCTIONS.includes(m[1]!)) throw new UsageError(`--${name} entries are NAME=N with NAME one of ${STREAM_FUNCTIONS.join(', ')}; got "${part}"`);
      const n = Number(m[2]);
      if (n < min || n > max) throw new UsageError(`--${name} ${m[1]} must be ${min}..${max}, got ${n}`);
      out[m[1]!] = n;
    }
    return out;
  };
  return {
    help: Boolean(a.help),
    reps: int('reps', 1, 20),
    windows: perFunction('window', 0, 300_000),
    lanes: perFunction('lanes', 1, 64),
    records: int('records', 1000, 5_000_000),
    mode: oneOf('mode', ['http', 'kafka', 'both'] as const),
    symbols: int('symbols', 1, 500),
    concurrency: int('concurrency', 1, 64),
    rate: int('rate', 1, 100_000),
    duration: int('duration', 1, 3600),
    latencySymbols: int('latency-symbols', 1, 500),
    ticksPerBar: int('ticks-per-bar', 1, 60_000),
    latencyPath: oneOf('latency-path', ['http', 'kafka'] as const),
    warmupS: int('warmup', 0, 3600),
    memory,
    seed: int('seed', 0, 2 ** 31 - 1),
    scenario: oneOf<ScenarioName>('scenario', SCENARIO_NAMES),
    phaseTimeoutMs: int('phase-timeout', 10, 3600) * 1000,
    kafkaTools: !a['no-kafka-tools'],
    cpuProfDir: String(a['cpu-prof']) || undefined,
    latency: !a['no-latency'],
  };
}

/** Memory the CDK stack deploys each function with (infra/stacks/functions-stack.ts; StageFunction's default is 512). */
const DEFAULT_MEMORY_MB: Record<string, number> = { ingest: 512, process: 1024, signal: 512, notify: 512, aggregate: 1024 };
const STREAM_FUNCTIONS = ['process', 'signal', 'notify', 'aggregate'];
/** Key of the whole machine's busy CPU in a phase's CPU samples. */
const MACHINE = '(machine)';
const HTTP_BATCH = 1000;
const TARGETS = { ticksPerSecond: 20_000, p99Ms: 250, dollarsPerMillionTicks: 0.01 };

let opts: ReturnType<typeof parseOptions>;
try {
  opts = parseOptions(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err;
  console.error(`bench:pipeline: ${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}

// ---------------------------------------------------------------------------
// Plumbing

const say = (msg: string): void => console.log(`[bench] ${msg}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const rate = (n: number, ms: number): number => (ms > 0 ? (n * 1000) / ms : Number.NaN);
const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;

let knownServices: Record<string, number | undefined> = {};

/** The local stack's services, found by command line (pid files go stale when someone else restarts a service). */
function servicePids(): Record<string, number | undefined> {
  knownServices = findPidsByCommandLine({ '(kafka)': /\bkafka\.Kafka\b/, '(redis)': /^\S*redis-server\b/, '(moto)': /\bmoto_server\b/ });
  return knownServices;
}

/** Shared services frozen by someone else (a chaos run SIGSTOPs Redis and moto) turn a phase into a measurement of that outage. */
const freezeWatch = new FreezeWatch(() => knownServices);

interface Running {
  sandbox: Sandbox;
  topics: Topics;
  admin: KafkaAdmin;
  producer: KafkaProducer;
  supervisor: Supervisor;
  functions: FunctionDefinition[];
  groups: (GroupRef & { function: string })[];
  api: ChildProcess;
  apiUrl: string;
  invocations: Invocation[];
  workerProblems: string[];
}

let running: Partial<Running> = {};
const perfTopics: string[] = [];
const profiledPids: { name: string; pid: number }[] = [];

/**
 * The stream functions as functions.ts defines them, on the sandbox's topics, each
 * behind the timing wrapper; --window and --lanes change their mappings for what-if runs.
 */
function benchFunctions(topics: Topics): FunctionDefinition[] {
  return functionsForTopics(topics).map((def) => ({
    ...def,
    handlerModule: 'bench/lib/timed-handler.ts',
    environment: { ...def.environment, BENCH_TARGET_HANDLER: def.handlerModule },
    eventSources: def.eventSources.map((es) => ({
      ...es,
      ...(opts.windows[def.name] !== undefined ? { maxBatchingWindowMs: opts.windows[def.name] } : {}),
      ...(opts.lanes[def.name] !== undefined ? { concurrency: opts.lanes[def.name] } : {}),
    })),
  }));
}

function overridesText(): string | undefined {
  const parts = [
    ...Object.entries(opts.windows).map(([f, ms]) => `${f} window ${ms} ms`),
    ...Object.entries(opts.lanes).map(([f, n]) => `${f} ${n} lanes`),
  ];
  return parts.length ? parts.join(', ') : undefined;
}

async function startApi(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(join(import.meta.dirname, 'lib', 'api-server.ts'), [], { env, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the API process did not start within 120 s:\n${output.slice(-2000)}`)), 120_000);
    child.on('message', (m: ApiServerMessage) => {
      if (m.type === 'listening') {
        clearTimeout(timer);
        resolve(m.url);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the API process exited with ${code}:\n${output.slice(-2000)}`));
    });
  });
  return { child, url };
}

function apiStats(child: ChildProcess): Promise<IngestStats> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the API process did not report its stats')), 5000);
    const onMessage = (m: ApiServerMessage): void => {
      if (m.type !== 'stats') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m.stats);
    };
    child.on('message', onMessage);
    child.send({ type: 'stats' });
  });
}

async function cleanup(): Promise<void> {
  freezeWatch.stop();
  const r = running;
  running = {};
  await r.supervisor?.stop().catch(() => {});
  if (r.api && r.api.exitCode === null) {
    const exited = new Promise((res) => r.api!.once('exit', res));
    r.api.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
  }
  await r.producer?.close().catch(() => {});
  if (r.admin && perfTopics.length) await r.admin.deleteTopics({ topics: perfTopics }).catch(() => {});
  await r.admin?.close().catch(() => {});
  await r.sandbox?.cleanup().catch((err: unknown) => console.error(`[bench] sandbox cleanup failed: ${(err as Error).message}`));
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\n[bench] ${sig}: stopping the workers and removing the sandbox…`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------
// Phases

interface StageWork {
  /** Records the handler was invoked with (from its invocations). */
  records: number;
  totals: InvocationTotals;
  /** Worker process CPU over the phase (/proc): handler plus the event source mapping emulator's polling. */
  processCpuMs: number;
}

interface PhaseMeasure {
  ticks: number;
  wallMs: number;
  cpuMs: Record<string, number>;
  stages: Record<string, StageWork>;
  ingest?: { invocations: number; billedMs: number; cpuMs: number };
  topicRecords: Record<string, number>;
  /** Time each shared service spent stopped (SIGSTOP) during the phase. */
  frozenMs: Record<string, number>;
  /** Processes whose pid changed during the phase (restarted workers or services). */
  restarted: string[];
}

function phaseMarks(r: Running) {
  const pids: Record<string, number | undefined> = { ...r.supervisor.pids(), ingest: r.api.pid, '(bench)': process.pid, ...servicePids() };
  const cpu = sampleCpu(pids);
  const machine = machineBusyCpuMs();
  if (machine !== undefined) cpu[MACHINE] = machine;
  return { at: Date.now(), inv: r.invocations.length, cpu, pids, frozen: freezeWatch.totals() };
}

async function measurePhase(r: Running, ticks: number, before: ReturnType<typeof phaseMarks>, snap0: OffsetSnapshot, snap1: OffsetSnapshot, ingest0?: IngestStats): Promise<PhaseMeasure> {
  const after = phaseMarks(r);
  const cpuMs: Record<string, number> = {};
  for (const [name, ms] of Object.entries(after.cpu)) {
    // A process restarted meanwhile (a worker recycled, a service bounced by someone else) has no meaningful delta.
    if (before.cpu[name] !== undefined && before.pids[name] === after.pids[name]) cpuMs[name] = ms - before.cpu[name]!;
  }
  const invs = r.invocations.slice(before.inv, after.inv);
  const stages: Record<string, StageWork> = {};
  for (const def of r.functions) {
    const totals = totalInvocations(invs.filter((i) => i.fn === def.name));
    stages[def.name] = { records: totals.records, totals, processCpuMs: cpuMs[def.name] ?? Number.NaN };
  }
  const topicRecords: Record<string, number> = {};
  for (const [t, n] of Object.entries(snap1.ends)) topicRecords[t.slice(r.sandbox.namespace.length)] = n - (snap0.ends[t] ?? 0);
  let ingest: PhaseMeasure['ingest'];
  if (ingest0) {
    const s = await apiStats(r.api);
    ingest = { invocations: s.invocations - ingest0.invocations, billedMs: s.billedMs - ingest0.billedMs, cpuMs: cpuMs.ingest ?? Number.NaN };
  }
  const frozenMs: Record<string, number> = {};
  for (const [name, ms] of Object.entries(after.frozen)) if (ms - (before.frozen[name] ?? 0) > 0) frozenMs[name] = ms - (before.frozen[name] ?? 0);
  const restarted = Object.keys(after.pids).filter((name) => before.pids[name] !== after.pids[name]);
  return { ticks, wallMs: after.at - before.at, cpuMs, stages, ...(ingest ? { ingest } : {}), topicRecords, frozenMs, restarted };
}

interface ThroughputResult {
  mode: 'http' | 'kafka';
  rep: number;
  records: number;
  send: SendResult;
  ingestTicksPerSec: number;
  /** Ticks per second from the first send until process had committed every tick. */
  endToEndTicksPerSec: number;
  /** Process's own rate: records over the span from its first invocation's start to its last one's end. */
  processTicksPerSec: number;
  processDoneAfterMs?: number;
  aggregateDoneAfterMs?: number;
  aggregateTicksPerSec: number;
  drainedAfterMs?: number;
  timedOut: boolean;
  measure: PhaseMeasure;
}

async function throughputRun(r: Running, mode: 'http' | 'kafka', records: PriceRecord[], rep: number): Promise<ThroughputResult> {
  const label = `${mode} ${rep}/${opts.reps}`;
  const processGroup = r.groups.find((g) => g.function === 'process')!;
  const aggregateGroup = r.groups.find((g) => g.function === 'aggregate' && g.topics.includes(r.topics.ticks))!;
  const allTopics = Object.values(r.topics);
  const snap = () => snapshotOffsets(r.admin, allTopics, r.groups, 3);
  const snap0 = await snap();
  const ingest0 = mode === 'http' ? await apiStats(r.api) : undefined;
  const marks = phaseMarks(r);
  const counters: SendCounters = { sent: 0, accepted: 0, rejected: 0, requests: 0, retries: 0 };
  let sendResult: SendResult | undefined;
  let sendError: unknown;
  const started = Date.now();
  (mode === 'http'
    ? sendOverHttp(r.apiUrl, records, { concurrency: opts.concurrency, batchSize: HTTP_BATCH, counters })
    : sendToKafka(r.producer, r.topics.ticks, records, { concurrency: opts.concurrency, batchSize: HTTP_BATCH, counters })
  ).then((res) => (sendResult = res), (err: unknown) => (sendError = err));

  const progress = createProgress({ label: `[${label}]`, total: records.length, unit: 'ticks', logEveryMs: 5000 });
  let processDoneAt: number | undefined;
  let aggregateDoneAt: number | undefined;
  let drainedAt: number | undefined;
  let last = snap0;
  let timedOut = false;
  for (;;) {
    await sleep(200);
    if (sendError) throw sendError;
    last = await snap();
    const processed = last.committed[processGroup.groupId]! - snap0.committed[processGroup.groupId]!;
    const aggregated = last.committed[aggregateGroup.groupId]! - snap0.committed[aggregateGroup.groupId]!;
    const secs = (Date.now() - started) / 1000;
    progress.update(processed, `sent ${formatCount(counters.sent)} (${formatCount(counters.sent / secs)}/s) · process ${formatCount(processed)} (${formatCount(processed / secs)}/s) · aggregate ${formatCount(aggregated)}`);
    if (sendResult) {
      const expected = sendResult.accepted;
      if (processDoneAt === undefined && processed >= expected) processDoneAt = last.at;
      if (aggregateDoneAt === undefined && aggregated >= expected) aggregateDoneAt = last.at;
      if (processDoneAt !== undefined && aggregateDoneAt !== undefined && r.groups.every((g) => lagOf(last, g) === 0)) {
        drainedAt = last.at;
        break;
      }
    }
    if (Date.now() - started > opts.phaseTimeoutMs) {
      timedOut = true;
      break;
    }
  }
  progress.finish();
  const measure = await measurePhase(r, records.length, marks, snap0, last, ingest0);
  const send = sendResult ?? { ...counters, startedAt: started, finishedAt: Number.NaN };
  const proc = measure.stages.process!.totals;
  // The polls above only decide when to stop; the last invocation's end (commit follows within ms) times completion exactly.
  if (processDoneAt !== undefined && proc.lastEnd !== undefined) processDoneAt = proc.lastEnd;
  const aggTicks = totalInvocations(r.invocations.slice(marks.inv).filter((i) => i.fn === 'aggregate' && i.topic === r.topics.ticks));
  if (aggregateDoneAt !== undefined && aggTicks.lastEnd !== undefined) aggregateDoneAt = aggTicks.lastEnd;
  const res: ThroughputResult = {
    mode,
    rep,
    records: records.length,
    send,
    ingestTicksPerSec: rate(send.accepted, send.finishedAt - send.startedAt),
    endToEndTicksPerSec: processDoneAt ? rate(send.accepted, processDoneAt - send.startedAt) : Number.NaN,
    processTicksPerSec: proc.firstStart !== undefined && proc.lastEnd !== undefined ? rate(proc.records, proc.lastEnd - proc.firstStart) : Number.NaN,
    aggregateTicksPerSec: aggregateDoneAt ? rate(send.accepted, aggregateDoneAt - send.startedAt) : Number.NaN,
    timedOut,
    measure,
    ...(processDoneAt ? { processDoneAfterMs: processDoneAt - send.startedAt } : {}),
    ...(aggregateDoneAt ? { aggregateDoneAfterMs: aggregateDoneAt - send.startedAt } : {}),
    ...(drainedAt ? { drainedAfterMs: drainedAt - send.startedAt } : {}),
  };
  say(
    `${label}: ingest ${formatCount(res.ingestTicksPerSec)} ticks/s · process done after ${fmtSec(res.processDoneAfterMs)} (${formatCount(res.endToEndTicksPerSec)} ticks/s end to end)` +
      ` · aggregate done after ${fmtSec(res.aggregateDoneAfterMs)}${timedOut ? ' · TIMED OUT' : ''}${send.rejected ? ` · ${send.rejected} rejected` : ''}`,
  );
  return res;
}

const fmtSec = (ms: number | undefined): string => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);

interface LatencyResult {
  path: 'http' | 'kafka';
  rate: number;
  ticks: number;
  durationMs: number;
  achievedRate: number;
  maxSenderBehindMs: number;
  requests: number;
  warmupMs: number;
  indicators: { expected: number; seen: number; all: Distribution; steady: Distribution; consumerSeen: Distribution };
  signals: { expectedBars: number; seenBars: number; records: number; all: Distribution; steady: Distribution; consumerSeen: Distribution };
  measure: PhaseMeasure;
}

async function latencyRun(r: Running): Promise<LatencyResult> {
  const engine = loadEngineConfig(r.sandbox.env);
  const rules = loadRulesConfig(r.sandbox.env);
  const barMs = { tick: 1000, '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 }[engine.timeframe];
  const total = opts.rate * opts.duration;
  const perSymbolSpan = Math.ceil(total / opts.latencySymbols) * (barMs / opts.ticksPerBar);
  if (perSymbolSpan > MAX_PAST_MS - 3_600_000) {
    throw new UsageError(`the latency series would span ${(perSymbolSpan / 86_400_000).toFixed(1)} days of event time per symbol, more than ingest accepts (7 days); use more --latency-symbols or fewer --ticks-per-bar`);
  }
  // Ends ten minutes ago: inside the recency window, and never in the future.
  const startMs = Math.floor((Date.now() - perSymbolSpan - 600_000) / barMs) * barMs;
  const series = buildLatencySeries({ symbols: opts.latencySymbols, ticksPerBar: opts.ticksPerBar, totalTicks: total, startMs, barMs }, engine, rules);

  // Broker CREATE_TIME of each output record (set by the stage's producer when it publishes) is the moment the effect exists.
  const consumer = createConsumer(loadKafkaConfig(r.sandbox.env), `bench-latency-${runId}`);
  const stream = await consumer.consume({ topics: [r.topics.indicators, r.topics.signals], mode: 'earliest', autocommit: false, maxWaitTime: 100 });
  const indicatorAt = new Map<string, { created: number; seen: number }>();
  const signalAt = new Map<string, { created: number; seen: number }>();
  let signalRecords = 0;
  let readError: unknown;
  const reading = (async () => {
    for await (const m of stream) {
      const key = m.key ? Buffer.from(m.key).toString('utf8') : '';
      if (!key.startsWith(LATENCY_SYMBOL_PREFIX) || !m.value) continue;
      const seen = Date.now();
      const v = JSON.parse(Buffer.from(m.value).toString('utf8')) as { symbol: string; time?: number; barTime?: number };
      const created = Number(m.timestamp);
      if (m.topic === r.topics.indicators) {
        const k = effectKey(v.symbol, v.time!);
        if (!indicatorAt.has(k)) indicatorAt.set(k, { created, seen });
      } else {
        signalRecords++;
        const k = effectKey(v.symbol, v.barTime!);
        if (!signalAt.has(k)) signalAt.set(k, { created, seen });
      }
    }
  })().catch((err: unknown) => {
    // Closing the stream at the end of the phase ends the loop; anything before that is a failed measurement.
    readError = err;
  });

  const allTopics = Object.values(r.topics);
  const snap0 = await snapshotOffsets(r.admin, allTopics, r.groups, 3);
  const ingest0 = opts.latencyPath === 'http' ? await apiStats(r.api) : undefined;
  const marks = phaseMarks(r);
  const counters: SendCounters = { sent: 0, accepted: 0, rejected: 0, requests: 0, retries: 0 };
  const progress = createProgress({ label: '[latency]', total, unit: 'ticks', logEveryMs: 5000 });
  const show = (sent: number): void =>
    progress.update(sent, `sent ${formatCount(sent)} at ${formatCount(opts.rate)}/s · bars seen ${formatCount(indicatorAt.size)} · signal bars seen ${formatCount(signalAt.size)}`);
  const paced = await sendPaced(
    total,
    opts.rate,
    async (from, to) => {
      const batch = series.ticks.slice(from, to);
      if (opts.latencyPath === 'http') await postTicks(r.apiUrl!, JSON.stringify(batch), batch.length, counters);
      else await produceRecords(r.producer, tickRecordsFor(r.topics.ticks, batch), batch.length);
    },
    { onProgress: show },
  );
  // Every effect the series must have: wait for them, or give up after a quiet spell.
  let lastCount = -1;
  let quietSince = Date.now();
  while (indicatorAt.size < series.closingTick.size || signalAt.size < series.expectedSignals.size) {
    const count = indicatorAt.size + signalAt.size;
    if (count !== lastCount) {
      lastCount = count;
      quietSince = Date.now();
    } else if (Date.now() - quietSince > 15_000) break;
    show(total);
    await sleep(100);
  }
  progress.finish();
  // Let the stages drain (notify, aggregate) so their CPU belongs to this phase's records.
  let snap1 = await snapshotOffsets(r.admin, allTopics, r.groups, 3);
  const drainDeadline = Date.now() + 60_000;
  while (r.groups.some((g) => lagOf(snap1, g) > 0) && Date.now() < drainDeadline) {
    await sleep(200);
    snap1 = await snapshotOffsets(r.admin, allTopics, r.groups, 3);
  }
  const measure = await measurePhase(r, total, marks, snap0, snap1, ingest0);
  const readFailed = readError;
  await stream.close().catch(() => {});
  await consumer.close(true).catch(() => {});
  await reading;
  if (readFailed) throw new Error(`reading ${r.topics.indicators} / ${r.topics.signals} failed during the latency run: ${(readFailed as Error).message}`);

  const warmupEnd = paced.startedAt + opts.warmupS * 1000;
  const collect = (seen: Map<string, { created: number; seen: number }>, keys: Iterable<string>) => {
    const all: number[] = [], steady: number[] = [], read: number[] = [];
    for (const k of keys) {
      const at = seen.get(k);
      const i = series.closingTick.get(k);
      if (!at || i === undefined) continue;
      const sent = paced.sentAt[i]!;
      all.push(at.created - sent);
      read.push(at.seen - sent);
      if (sent >= warmupEnd) steady.push(at.created - sent);
    }
    return { all: distribution(all), steady: distribution(steady), consumerSeen: distribution(read) };
  };
  const ind = collect(indicatorAt, series.closingTick.keys());
  const sig = collect(signalAt, series.expectedSignals);
  return {
    path: opts.latencyPath,
    rate: opts.rate,
    ticks: total,
    durationMs: paced.finishedAt - paced.startedAt,
    achievedRate: rate(total, paced.finishedAt - paced.startedAt),
    maxSenderBehindMs: paced.maxBehindMs,
    requests: paced.requests,
    warmupMs: opts.warmupS * 1000,
    indicators: { expected: series.closingTick.size, seen: [...series.closingTick.keys()].filter((k) => indicatorAt.has(k)).length, ...ind },
    signals: { expectedBars: series.expectedSignals.size, seenBars: [...series.expectedSignals].filter((k) => signalAt.has(k)).length, records: signalRecords, ...sig },
    measure,
  };
}

// ---------------------------------------------------------------------------
// Cost

interface CostRow {
  phase: string;
  fn: string;
  memoryMB: number;
  records: number;
  invocations: number;
  avgBatch: number;
  cpuMsPer1k: number;
  handlerCpuMsPer1k: number;
  billedMsPer1k: number;
  requestsPerMTicksFull: number;
  requestsPerMTicksObserved: number;
  /** Compute $ per million ticks with duration = the worker's CPU time. */
  computeCpu: number;
  /** Compute $ per million ticks with duration = the measured invocation wall time. */
  computeBilled: number;
  requestCost: number;
}

function batchSizeOf(def: FunctionDefinition | undefined): number {
  // aggregate has one mapping per topic; ticks dominate its records.
  return def?.eventSources[0]?.batchSize ?? HTTP_BATCH;
}

function costRows(phase: string, m: PhaseMeasure, functions: FunctionDefinition[], namespace: string): CostRow[] {
  const rows: CostRow[] = [];
  for (const def of functions) {
    const s = m.stages[def.name]!;
    const mem = opts.memory[def.name] ?? 512;
    const perTick = s.records / m.ticks;
    const cpu = costPerMillionTicks({ memoryMB: mem, ticks: m.ticks, seconds: s.processCpuMs / 1000, requests: s.totals.invocations });
    const billed = costPerMillionTicks({ memoryMB: mem, ticks: m.ticks, seconds: s.totals.billedMs / 1000, requests: s.totals.invocations });
    const full = def.name === 'aggregate'
      ? def.eventSources.reduce((sum, es) => {
          const topic = es.topics[0]!.slice(namespace.length);
          return sum + requestsAtFullBatches((m.topicRecords[topic] ?? 0) / m.ticks, es.batchSize);
        }, 0)
      : requestsAtFullBatches(perTick, batchSizeOf(def));
    rows.push({
      phase, fn: def.name, memoryMB: mem, records: s.records, invocations: s.totals.invocations,
      avgBatch: s.totals.invocations ? s.records / s.totals.invocations : Number.NaN,
      cpuMsPer1k: s.records ? (s.processCpuMs / s.records) * 1000 : Number.NaN,
      handlerCpuMsPer1k: s.records ? (s.totals.cpuMs / s.records) * 1000 : Number.NaN,
      billedMsPer1k: s.records ? (s.totals.billedMs / s.records) * 1000 : Number.NaN,
      requestsPerMTicksFull: full,
      requestsPerMTicksObserved: cpu.requests,
      computeCpu: cpu.compute, computeBilled: billed.compute, requestCost: (full / 1e6) * LAMBDA_PRICE_PER_MILLION_REQUESTS,
    });
  }
  if (m.ingest) {
    const mem = opts.memory.ingest ?? 512;
    const cpu = costPerMillionTicks({ memoryMB: mem, ticks: m.ticks, seconds: m.ingest.cpuMs / 1000, requests: m.ingest.invocations });
    const billed = costPerMillionTicks({ memoryMB: mem, ticks: m.ticks, seconds: m.ingest.billedMs / 1000, requests: m.ingest.invocations });
    rows.unshift({
      phase, fn: 'ingest', memoryMB: mem, records: m.ticks, invocations: m.ingest.invocations, avgBatch: m.ticks / m.ingest.invocations,
      cpuMsPer1k: (m.ingest.cpuMs / m.ticks) * 1000, handlerCpuMsPer1k: Number.NaN, billedMsPer1k: (m.ingest.billedMs / m.ticks) * 1000,
      requestsPerMTicksFull: requestsAtFullBatches(1, HTTP_BATCH), requestsPerMTicksObserved: cpu.requests,
      computeCpu: cpu.compute, computeBilled: billed.compute, requestCost: (requestsAtFullBatches(1, HTTP_BATCH) / 1e6) * LAMBDA_PRICE_PER_MILLION_REQUESTS,
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------
// Main

interface KafkaToolsRep {
  rep: number;
  producer?: ProducerPerfResult;
  consumer?: ConsumerPerfResult;
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const modes: ('http' | 'kafka')[] = opts.mode === 'both' ? ['http', 'kafka'] : [opts.mode];
  say(`${opts.reps} x ${formatCount(opts.records)} ticks per throughput run (${modes.join(', ')}), ${opts.symbols} symbols, ${opts.concurrency} senders; latency ${formatCount(opts.rate)} ticks/s for ${opts.duration} s over ${opts.latencyPath}`);
  const modified = overridesText();
  if (modified) say(`WHAT-IF RUN, mappings changed from functions.ts: ${modified}`);

  // Seeded, realistic ticks: Poisson arrivals over the symbols by liquidity, 30 minutes of event time ending an hour ago.
  const spanMs = 30 * 60_000;
  const generator = new MarketGenerator({
    seed: opts.seed, scenario: opts.scenario, symbols: universeOfSize(opts.symbols), tickRate: opts.records / (spanMs / 1000),
    startMs: Date.now() - 90 * 60_000, clock: 'continuous', count: opts.records,
  });
  const base = [...generator];
  const recordBytes = base.reduce((s, t) => s + Buffer.byteLength(JSON.stringify(t)), 0) / base.length;
  // The same ticks for every run, on symbols of their own so each run starts from fresh per-symbol state.
  const runRecords = (mode: string, rep: number) => base.map((t) => ({ ...t, symbol: `${t.symbol}-${mode === 'http' ? 'H' : 'K'}${rep}` }));

  const chaos = processesMatching(/\bchaos\.ts\b/);
  if (chaos.length) say(`NOTE: a chaos run is active on the shared stack (${chaos.map((c) => c.split(' ')[0]).join(', ')}); it freezes Redis/moto and restarts Kafka, so expect outliers`);
  servicePids();
  freezeWatch.start();
  say('creating a sandbox (topics, Redis DB, SQLite file, SNS topic)…');
  const sandbox = await createSandbox({ name: 'bench', partitions: 3 });
  running.sandbox = sandbox;
  const kafka = loadKafkaConfig(sandbox.env);
  const admin = createAdmin(kafka);
  running.admin = admin;

  say('starting the API process and the stream function workers…');
  const functions = benchFunctions(sandbox.topics);
  const groups = consumerGroups(functions).map((g) => ({ function: g.function, groupId: g.groupId, topics: g.topics }));
  const invocations: Invocation[] = [];
  const workerProblems: string[] = [];
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const log = createWriteStream(join(ARTIFACTS_DIR, 'bench-pipeline.log'), { flags: 'w' });
  const workerEnv: NodeJS.ProcessEnv = { ...sandbox.env, RUNTIME_LOG_LEVEL: 'info' };
  if (opts.cpuProfDir) {
    mkdirSync(opts.cpuProfDir, { recursive: true });
    // Written when each process exits, i.e. at cleanup; one file per process.
    workerEnv.NODE_OPTIONS = `${workerEnv.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${resolve(opts.cpuProfDir)}`.trim();
  }
  const supervisor = startSupervisor({
    functions,
    env: workerEnv,
    logger: silentLogger,
    output: (line) => {
      const inv = parseInvocationLine(line);
      if (inv) {
        invocations.push(inv);
        return;
      }
      log.write(`${line}\n`);
      if (/"level":"(ERROR|WARN)"|\b(ERROR|WARN) /.test(line) && workerProblems.length < 50) workerProblems.push(line.slice(0, 300));
    },
  });
  running.supervisor = supervisor;
  const { child: api, url: apiUrl } = await startApi(workerEnv);
  running.api = api;
  const producer = createProducer(kafka);
  running.producer = producer;
  await Promise.all(functions.map((f) => supervisor.waitUntilReady(f.name, 180_000)));
  supervisor.on('restart', (name, delayMs) => workerProblems.push(`supervisor: ${name} exited and restarts in ${delayMs} ms`));
  for (const [name, pid] of Object.entries(supervisor.pids())) if (pid) profiledPids.push({ name, pid });
  if (api.pid) profiledPids.push({ name: 'ingest+api', pid: api.pid });
  supervisor.on('ready', (name, pid) => profiledPids.push({ name, pid }));
  const r: Running = { sandbox, topics: sandbox.topics, admin, producer, supervisor, functions, groups, api, apiUrl, invocations, workerProblems };
  say(`ready after ${fmtSec(Date.now() - startedAt)}: API ${apiUrl}, workers ${Object.entries(supervisor.pids()).map(([n, p]) => `${n}=${p}`).join(' ')}`);

  const toolsAvailable = opts.kafkaTools && kafkaToolsAvailable();
  if (opts.kafkaTools && !toolsAvailable) say('Kafka tools not installed (.local/kafka/libs has no kafka-tools jar): skipping the reference runs');
  const payloadFile = join(sandbox.dataDir, 'payloads.txt');
  if (toolsAvailable) writeFileSync(payloadFile, `${base.slice(0, 10_000).map((t) => JSON.stringify({ ...t, symbol: `${t.symbol}-H1` })).join('\n')}\n`);

  // Kafka's tools and our runs alternate, so a noisy spell on the shared machine hits both sides of a ratio alike.
  const kafkaTools: KafkaToolsRep[] = [];
  const throughput: ThroughputResult[] = [];
  for (let rep = 1; rep <= opts.reps; rep++) {
    const tag = `${rep}/${opts.reps}`;
    if (toolsAvailable) {
      const topic = `${sandbox.namespace}bench.perf.${rep}`;
      perfTopics.push(topic);
      await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
      say(`[kafka-tools ${tag}] ProducerPerformance: ${formatCount(opts.records)} of our tick records (mean ${recordBytes.toFixed(0)} B), keyed over ${opts.symbols} keys, acks=all, idempotent…`);
      const producerRes = await producerPerformance({ bootstrap: kafka.brokers.join(','), topic, records: opts.records, payloadFile, keyRange: opts.symbols });
      say(`[kafka-tools ${tag}]   ${formatCount(producerRes.recordsPerSec)} records/s, latency p50 ${producerRes.p50LatencyMs} ms p99 ${producerRes.p99LatencyMs} ms`);
      const consumerRes = await consumerPerformance({ bootstrap: kafka.brokers.join(','), topic, records: opts.records, group: `bench-perf-${runId}-${rep}` });
      say(`[kafka-tools ${tag}] ConsumerPerformance: ${formatCount(consumerRes.fetchRecordsPerSec)} records/s while fetching (${formatCount(consumerRes.recordsPerSec)}/s including ${consumerRes.rebalanceMs} ms group join)`);
      kafkaTools.push({ rep, producer: producerRes, consumer: consumerRes });
    }
    for (const mode of modes) {
      say(`[${mode} ${tag}] ${formatCount(opts.records)} ticks as fast as possible ${mode === 'http' ? 'through POST /ticks (batches of 1,000)' : 'straight to Kafka (produce batches of 1,000)'}…`);
      throughput.push(await throughputRun(r, mode, runRecords(mode, rep), rep));
    }
  }

  let latency: LatencyResult | undefined;
  if (opts.latency) {
    say(`latency: ${formatCount(opts.rate)} ticks/s for ${opts.duration} s over ${opts.latencyPath}, ${opts.latencySymbols} symbols, a bar closes every ${opts.ticksPerBar} ticks per symbol…`);
    latency = await latencyRun(r);
  }

  report({
    startedAt, namespace: sandbox.namespace, recordBytes, kafkaTools, throughput, latency, functions, workerProblems, modified,
    restarts: Object.fromEntries(functions.map((f) => [f.name, supervisor.restarts(f.name)])),
  });
  await new Promise<void>((res) => log.end(() => res()));
}

// ---------------------------------------------------------------------------
// Report

interface Report {
  startedAt: number;
  namespace: string;
  recordBytes: number;
  kafkaTools: KafkaToolsRep[];
  throughput: ThroughputResult[];
  latency?: LatencyResult;
  functions: FunctionDefinition[];
  workerProblems: string[];
  restarts: Record<string, number>;
  modified?: string;
}

/** CPU of the processes that make up the pipeline; moto is shared and only touched once per signal, so it is left out. */
function pipelineCpuMs(m: PhaseMeasure): number {
  return Object.entries(m.cpuMs).filter(([n]) => n !== MACHINE && n !== '(moto)').reduce((s, [, v]) => s + v, 0);
}

const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'n/a' : ok ? 'met' : 'MISSED');

/** Sums the measurements of several runs of one kind, so per-record figures rest on all of them. */
function mergeMeasures(ms: PhaseMeasure[]): PhaseMeasure {
  const sumRecord = (pick: (m: PhaseMeasure) => Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const m of ms) for (const [k, v] of Object.entries(pick(m))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const stages: Record<string, StageWork> = {};
  for (const name of Object.keys(ms[0]?.stages ?? {})) {
    const parts = ms.map((m) => m.stages[name]!);
    stages[name] = {
      records: parts.reduce((s, p) => s + p.records, 0),
      processCpuMs: parts.reduce((s, p) => s + p.processCpuMs, 0),
      totals: {
        invocations: parts.reduce((s, p) => s + p.totals.invocations, 0), failed: parts.reduce((s, p) => s + p.totals.failed, 0),
        records: parts.reduce((s, p) => s + p.totals.records, 0), billedMs: parts.reduce((s, p) => s + p.totals.billedMs, 0), cpuMs: parts.reduce((s, p) => s + p.totals.cpuMs, 0),
      },
    };
  }
  const ingests = ms.map((m) => m.ingest).filter((i) => i !== undefined);
  return {
    ticks: ms.reduce((s, m) => s + m.ticks, 0),
    wallMs: ms.reduce((s, m) => s + m.wallMs, 0),
    cpuMs: sumRecord((m) => m.cpuMs),
    stages,
    topicRecords: sumRecord((m) => m.topicRecords),
    frozenMs: sumRecord((m) => m.frozenMs),
    restarted: [...new Set(ms.flatMap((m) => m.restarted))],
    ...(ingests.length ? { ingest: { invocations: ingests.reduce((s, i) => s + i.invocations, 0), billedMs: ingests.reduce((s, i) => s + i.billedMs, 0), cpuMs: ingests.reduce((s, i) => s + i.cpuMs, 0) } } : {}),
  };
}

function report(x: Report): void {
  const out: string[] = [];
  const finite = (xs: (number | undefined)[]): number[] => xs.filter((v): v is number => v !== undefined && Number.isFinite(v));
  const range = (xs: number[]): string => (xs.length > 1 ? `${formatCount(Math.min(...xs))}–${formatCount(Math.max(...xs))}` : '');
  const producerOf = (rep: number) => x.kafkaTools.find((k) => k.rep === rep)?.producer;
  const consumerOf = (rep: number) => x.kafkaTools.find((k) => k.rep === rep)?.consumer;

  // Throughput: medians over reps; each ratio is taken within a rep (ours next to Kafka's own run), then the median of those.
  type TRow = { what: string; values: number[]; ratios: number[]; ref?: string; note?: string };
  const trows: TRow[] = [];
  const producerRates = finite(x.kafkaTools.map((k) => k.producer?.recordsPerSec));
  const consumerRates = finite(x.kafkaTools.map((k) => k.consumer?.fetchRecordsPerSec));
  if (producerRates.length) trows.push({ what: 'Kafka ProducerPerformance (acks=all, idempotent)', values: producerRates, ratios: [], note: `p99 ${formatCount(median(finite(x.kafkaTools.map((k) => k.producer?.p99LatencyMs))))} ms` });
  if (consumerRates.length) trows.push({ what: 'Kafka ConsumerPerformance (fetch time only)', values: consumerRates, ratios: [], note: `${formatCount(median(finite(x.kafkaTools.map((k) => k.consumer?.recordsPerSec))))}/s counting the group join` });
  for (const mode of ['http', 'kafka'] as const) {
    const runs = x.throughput.filter((t) => t.mode === mode);
    if (!runs.length) continue;
    const label = mode === 'http' ? 'POST /ticks' : 'Kafka direct';
    const row = (what: string, pick: (t: ThroughputResult) => number, ref: 'producer' | 'consumer', note: string): TRow => ({
      what, values: finite(runs.map(pick)), ref, note,
      ratios: finite(runs.map((t) => {
        const theirs = ref === 'producer' ? producerOf(t.rep)?.recordsPerSec : consumerOf(t.rep)?.fetchRecordsPerSec;
        return theirs ? pick(t) / theirs : undefined;
      })),
    });
    const m = mergeMeasures(runs.map((t) => t.measure));
    trows.push(row(`${label}: ingest, send → acknowledged`, (t) => t.ingestTicksPerSec, 'producer', `${formatCount(median(runs.map((t) => t.send.requests)))} requests/run, ${runs.reduce((s, t) => s + t.send.retries, 0)} retries, ${runs.reduce((s, t) => s + t.send.rejected, 0)} rejected`));
    trows.push(row(`${label}: process, first → last invocation`, (t) => t.processTicksPerSec, 'consumer', `avg batch ${formatCount(m.stages.process!.records / m.stages.process!.totals.invocations)}`));
    trows.push(row(`${label}: end to end, first send → process committed all`, (t) => t.endToEndTicksPerSec, 'producer', `done after ${runs.map((t) => fmtSec(t.processDoneAfterMs)).join(', ')}${runs.some((t) => t.timedOut) ? ' (TIMED OUT)' : ''}`));
    trows.push(row(`${label}: end to end, first send → aggregate committed all`, (t) => t.aggregateTicksPerSec, 'producer', `done after ${runs.map((t) => fmtSec(t.aggregateDoneAfterMs)).join(', ')}; dlq ${formatCount(m.topicRecords['market.dlq'] ?? 0)}`));
  }
  const nReps = Math.max(1, ...x.throughput.map((t) => t.rep));
  out.push(formatTable(`Throughput: median of ${nReps} run(s) of ${formatCount(x.throughput[0]?.records ?? 0)} ticks each, mean record ${x.recordBytes.toFixed(0)} B`, [
    { title: 'measure', value: (r: TRow) => r.what, align: 'left' },
    { title: 'ticks/s', value: (r) => median(r.values) },
    { title: 'range', value: (r) => range(r.values), align: 'right' },
    { title: 'vs Kafka tool (same rep)', value: (r) => (r.ratios.length ? `${(median(r.ratios) * 100).toFixed(0)}% of ${r.ref}` : undefined), align: 'right' },
    { title: 'notes', value: (r) => r.note, align: 'left' },
  ], trows));

  // Latency
  const windows = x.functions.filter((f) => f.name !== 'aggregate').map((f) => `${f.name} ${f.eventSources[0]!.maxBatchingWindowMs} ms / ${f.eventSources[0]!.batchSize}`);
  const agg = x.functions.find((f) => f.name === 'aggregate')?.eventSources[0];
  if (agg) windows.push(`aggregate ${agg.maxBatchingWindowMs} ms / ${agg.batchSize}`);
  if (x.latency) {
    const l = x.latency;
    type LRow = { what: string; d: Distribution; coverage: string };
    const lrows: LRow[] = [
      { what: 'tick → indicator bar published (process)', d: l.indicators.steady, coverage: `${formatCount(l.indicators.seen)}/${formatCount(l.indicators.expected)} bars` },
      { what: 'tick → signal published (signal)', d: l.signals.steady, coverage: `${formatCount(l.signals.seenBars)}/${formatCount(l.signals.expectedBars)} signal bars` },
      { what: '  same, including warm-up', d: l.signals.all, coverage: '' },
      { what: '  same, as read by a consumer', d: l.signals.consumerSeen, coverage: '' },
    ];
    out.push('', formatTable(`Latency at ${formatCount(l.rate)} ticks/s over ${l.path === 'http' ? 'POST /ticks' : 'Kafka'} for ${(l.durationMs / 1000).toFixed(0)} s (achieved ${formatCount(l.achievedRate)}/s; ms; first ${l.warmupMs / 1000} s excluded unless said)`, [
      { title: 'tick → effect', value: (r: LRow) => r.what, align: 'left' },
      { title: 'n', value: (r) => r.d.count },
      { title: 'p50', value: (r) => r.d.p50 },
      { title: 'p90', value: (r) => r.d.p90 },
      { title: 'p99', value: (r) => r.d.p99 },
      { title: 'max', value: (r) => r.d.max },
      { title: 'complete', value: (r) => r.coverage, align: 'left' },
    ], lrows));
    out.push(
      `  Batching windows / batch sizes (local ESM${x.modified ? ', AS CHANGED BY --window/--lanes' : ', local/runtime/functions.ts'}): ${windows.join(', ')}.`,
      '  At this rate a batch closes on its window, not its size, so each hop waits up to its window: tick → signal crosses process and signal.',
      '  Method: each latency symbol gets a tick every 1/N of a bar (event time); the tick that opens a bar closes the previous one, and its',
      '  effect is that bar on market.indicators and, when a rule fires, a signal on market.signals. Latency = the output record\'s Kafka',
      '  CREATE_TIME (stamped by the stage\'s producer as it publishes) minus the wall time the tick was sent; "read by a consumer" uses the',
      '  time this process read it instead. The bars and signals that must appear are known in advance from the same engine and rules.',
      `  The sender was at most ${l.maxSenderBehindMs.toFixed(0)} ms behind its schedule (one request at a time, ${formatCount(l.requests)} requests).`,
    );
  }

  // CPU and cost
  const phases: { name: string; m: PhaseMeasure }[] = [
    ...(['http', 'kafka'] as const).filter((mode) => x.throughput.some((t) => t.mode === mode)).map((mode) => ({ name: `throughput/${mode}`, m: mergeMeasures(x.throughput.filter((t) => t.mode === mode).map((t) => t.measure)) })),
    ...(x.latency ? [{ name: `latency ${formatCount(x.latency.rate)}/s`, m: x.latency.measure }] : []),
  ];
  const rows = phases.flatMap((p) => costRows(p.name, p.m, x.functions, x.namespace));
  const per1k = (v: number, records: number): number | undefined => (records >= 1000 ? v : undefined);
  out.push('', formatTable('CPU per 1,000 records handled, and Lambda cost per million ticks (arm64)', [
    { title: 'phase', value: (r: CostRow) => r.phase, align: 'left' },
    { title: 'function', value: (r) => r.fn, align: 'left' },
    { title: 'MB', value: (r) => r.memoryMB },
    { title: 'records', value: (r) => r.records },
    { title: 'invocations', value: (r) => r.invocations },
    { title: 'avg batch', value: (r) => r.avgBatch },
    { title: 'CPU ms/1k', value: (r) => per1k(r.cpuMsPer1k, r.records), digits: 1 },
    { title: 'in-handler', value: (r) => per1k(r.handlerCpuMsPer1k, r.records), digits: 1 },
    { title: 'wall ms/1k', value: (r) => per1k(r.billedMsPer1k, r.records), digits: 1 },
    { title: '$/M ticks CPU', value: (r) => r.computeCpu, digits: 5 },
    { title: '$/M ticks wall', value: (r) => r.computeBilled, digits: 5 },
    { title: 'req/M full', value: (r) => r.requestsPerMTicksFull },
    { title: 'req/M seen', value: (r) => r.requestsPerMTicksObserved },
  ], rows));
  const totals = phases.map((p) => {
    const rs = rows.filter((r) => r.phase === p.name);
    return {
      phase: p.name, computeCpu: rs.reduce((s, r) => s + r.computeCpu, 0), computeBilled: rs.reduce((s, r) => s + r.computeBilled, 0),
      requests: rs.reduce((s, r) => s + r.requestCost, 0), requestsSeen: (rs.reduce((s, r) => s + r.requestsPerMTicksObserved, 0) / 1e6) * LAMBDA_PRICE_PER_MILLION_REQUESTS,
    };
  });
  for (const t of totals) out.push(`  ${t.phase}: Lambda compute $${t.computeCpu.toFixed(5)} (CPU) / $${t.computeBilled.toFixed(5)} (wall) per million ticks; requests $${t.requests.toFixed(5)} (full) / $${t.requestsSeen.toFixed(5)} (seen)`);
  out.push(
    '  CPU ms/1k: the worker process\'s CPU (/proc utime+stime; includes the event source mapping emulator\'s polling and decoding, which',
    '  AWS does outside the function) per 1,000 records it was invoked with; in-handler: process.cpuUsage() during its invocations;',
    '  wall: summed invocation time, the quantity Lambda bills. Shown only for 1,000+ records (otherwise idle polling dominates).',
    `  $ = seconds x memory GB x $${LAMBDA_ARM64_PRICE_PER_GB_SECOND}/GB-s, scaled to 10^6 ticks. Requests ($${LAMBDA_PRICE_PER_MILLION_REQUESTS}/M) per million ticks: "full" at the`,
    '  batch sizes of functions.ts (records the function sees per tick / batch size), "seen" as invoked in this run (windows close batches early).',
    '  Memory as deployed by infra/stacks/functions-stack.ts (override: --memory). Below 1,769 MB a Lambda gets less than one vCPU, so',
    '  CPU-bound work takes longer there than its CPU time here (x1.7 at 1,024 MB).',
  );

  // Where the machine's CPU went: ours per process, and everyone else's (other tenants of a shared machine)
  const cores = cpus().length;
  const phaseCpu = phases.map((p) => {
    const ours = pipelineCpuMs(p.m);
    const machine = p.m.cpuMs[MACHINE];
    const usPerTick = (ours / p.m.ticks) * 1000;
    return { phase: p.name, wallS: p.m.wallMs / 1000, cpu: p.m.cpuMs, ours, others: machine === undefined ? undefined : Math.max(0, machine - ours), usPerTick, ceiling: (cores * 1e6) / usPerTick };
  });
  const names = [...new Set(phases.flatMap((p) => Object.keys(p.m.cpuMs)))].filter((n) => n !== MACHINE);
  out.push('', formatTable(`CPU seconds per process over each phase (${cores} cores = ${cores} CPU-s per wall second)`, [
    { title: 'phase', value: (r: (typeof phaseCpu)[number]) => r.phase, align: 'left' },
    { title: 'wall s', value: (r) => r.wallS, digits: 1 },
    ...names.map((n) => ({ title: n, value: (r: (typeof phaseCpu)[number]) => (r.cpu[n] === undefined ? undefined : r.cpu[n]! / 1000), digits: 1 })),
    { title: 'pipeline', value: (r) => r.ours / 1000, digits: 1 },
    { title: 'rest of machine', value: (r) => (r.others === undefined ? undefined : r.others / 1000), digits: 1 },
    { title: 'µs/tick', value: (r) => r.usPerTick, digits: 0 },
  ], phaseCpu));
  for (const p of phaseCpu.filter((q) => q.phase.startsWith('throughput/'))) {
    const runs = x.throughput.filter((t) => `throughput/${t.mode}` === p.phase);
    // Per run: its end-to-end rate over the rate its own CPU per tick allows on these cores.
    const shares = finite(runs.map((t) => (t.endToEndTicksPerSec * pipelineCpuMs(t.measure)) / t.measure.ticks / 1000 / cores));
    out.push(`  ${p.phase}: the pipeline's processes together spend ${p.usPerTick.toFixed(0)} µs of CPU per tick, so ${cores} cores cap it near ${formatCount(p.ceiling)} ticks/s;` +
      ` runs reached ${(median(shares) * 100).toFixed(0)}% of their cap (median)${p.others !== undefined ? `; the rest of the machine used ${(p.others / 1000).toFixed(1)} CPU-s meanwhile` : ''}.`);
  }
  out.push(
    '  pipeline = workers + ingest + this process (the load generator) + Kafka + Redis; Kafka, Redis and moto are shared with anything',
    '  else running on the stack, so on a busy machine their columns include other tenants\' load ("rest of machine" = all else).',
    '  The cap is approximate: a phase\'s CPU includes the drain after process finished, so a run can come out slightly above 100%.',
  );

  // Targets
  const e2e = (mode: string) => median(finite(x.throughput.filter((t) => t.mode === mode).map((t) => t.endToEndTicksPerSec)));
  const best = Math.max(...['http', 'kafka'].map(e2e).filter(Number.isFinite), Number.NEGATIVE_INFINITY);
  const p99 = x.latency?.signals.steady.p99;
  const worstCost = totals.length ? Math.max(...totals.map((t) => t.computeCpu)) : undefined;
  out.push('', `Targets (reported, not asserted)${x.modified ? ` — WHAT-IF RUN: ${x.modified}` : ''}`);
  out.push(`  sustained ticks/s >= ${formatCount(TARGETS.ticksPerSecond)}: ${Number.isFinite(best) ? formatCount(best) : '—'} (median end to end through process, best mode) → ${verdict(Number.isFinite(best) ? best >= TARGETS.ticksPerSecond : undefined)}`);
  out.push(`  tick → signal p99 < ${TARGETS.p99Ms} ms at ${formatCount(opts.rate)}/s: ${p99 === undefined || Number.isNaN(p99) ? '—' : `${formatCount(p99)} ms`} → ${verdict(p99 === undefined || Number.isNaN(p99) ? undefined : p99 < TARGETS.p99Ms)}`);
  out.push(`  Lambda compute < $${TARGETS.dollarsPerMillionTicks} per million ticks (CPU basis, worst phase): ${worstCost === undefined ? '—' : `$${worstCost.toFixed(5)}`} → ${verdict(worstCost === undefined ? undefined : worstCost < TARGETS.dollarsPerMillionTicks)}`);
  for (const p of phases) {
    const frozen = Object.entries(p.m.frozenMs).filter(([, ms]) => ms >= 100);
    if (frozen.length) out.push(`  WARNING: during ${p.name}, ${frozen.map(([n, ms]) => `${n} was frozen (SIGSTOP) for ${(ms / 1000).toFixed(1)} s`).join(' and ')} by another process: that phase measured an outage`);
    if (p.m.restarted.length) out.push(`  WARNING: during ${p.name}, ${p.m.restarted.join(', ')} restarted (new pid): that phase includes the restart, and their CPU is left out`);
  }
  const restarted = Object.entries(x.restarts).filter(([, n]) => n > 0);
  if (restarted.length) out.push(`  WARNING: workers restarted during the run (${restarted.map(([n, c]) => `${n} x${c}`).join(', ')}); the numbers include recovery`);
  if (x.workerProblems.length) out.push(`  ${x.workerProblems.length} warning/error line(s) from workers (artifacts/bench-pipeline.log); first: ${x.workerProblems[0]}`);

  const path = saveArtifact('bench-pipeline.json', {
    bench: 'pipeline', at: new Date(x.startedAt).toISOString(), durationS: (Date.now() - x.startedAt) / 1000, machine: machineInfo(), options: opts,
    whatIf: x.modified ?? null, recordBytes: x.recordBytes, targets: TARGETS,
    batching: x.functions.map((f) => ({ name: f.name, eventSources: f.eventSources.map((es) => ({ topics: es.topics, batchSize: es.batchSize, maxBatchingWindowMs: es.maxBatchingWindowMs, concurrency: es.concurrency ?? 1 })) })),
    summary: {
      throughput: trows.map((t) => ({ measure: t.what, median: median(t.values), values: t.values, ratioMedian: t.ratios.length ? median(t.ratios) : null, ratioTo: t.ref ?? null })),
      latency: x.latency ? { indicatorP50: x.latency.indicators.steady.p50, indicatorP99: x.latency.indicators.steady.p99, signalP50: x.latency.signals.steady.p50, signalP99: x.latency.signals.steady.p99 } : null,
      costPerMillionTicks: totals,
    },
    kafkaTools: x.kafkaTools, throughput: x.throughput, latency: x.latency,
    cost: { rows, pricePerGbSecond: LAMBDA_ARM64_PRICE_PER_GB_SECOND, pricePerMillionRequests: LAMBDA_PRICE_PER_MILLION_REQUESTS },
    restarts: x.restarts, workerProblems: x.workerProblems,
  });
  out.push('', `Saved ${path} (run took ${fmtSec(Date.now() - x.startedAt)})`);
  console.log(`\n${out.join('\n')}`);
}

try {
  await main();
} catch (err) {
  const e = err as Error;
  console.error(`[bench] failed: ${e instanceof UsageError ? e.message : (e.stack ?? e.message)}`);
  if (/ECONNREFUSED|connect|broker|metadata/i.test(e.message)) console.error('[bench] is the local stack up? bash scripts/stack.sh status / up');
  process.exitCode = 1;
} finally {
  await cleanup();
}
if (opts.cpuProfDir) printProfiles(opts.cpuProfDir);
process.exit(process.exitCode ?? 0);

function printProfiles(dir: string): void {
  const out: string[] = ['', `CPU profiles in ${dir} (self time, whole process life including start-up; idle excluded)`];
  for (const { name, pid } of profiledPids) {
    for (const file of profilesOf(dir, pid)) {
      const p = summarizeCpuProfile(file);
      out.push('', formatTable(`${name} (pid ${pid}): ${(p.busyMs / 1000).toFixed(1)} s busy — by code origin`, [
        { title: 'origin', value: (t: SelfTime) => t.name, align: 'left' },
        { title: 'self s', value: (t) => t.ms / 1000, digits: 2 },
        { title: 'share', value: (t) => `${(t.share * 100).toFixed(1)}%`, align: 'right' },
      ], p.byOrigin));
      out.push(formatTable('  top functions', [
        { title: 'function', value: (t: SelfTime) => t.name, align: 'left' },
        { title: 'self s', value: (t) => t.ms / 1000, digits: 2 },
        { title: 'share', value: (t) => `${(t.share * 100).toFixed(1)}%`, align: 'right' },
      ], p.byFunction));
    }
  }
  console.log(out.join('\n'));
}
