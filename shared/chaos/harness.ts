/**
 * The chaos harness: the same seeded input through a clean pipeline and through
 * one under faults, then a comparison of everything each left behind.
 *
 * The runs go one after the other, not side by side: a Redis, broker or SNS outage
 * hits the shared service, and the clean run must see none of them.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { applyLocalEnv, ROOT } from '../../local/env';
import { createAdmin, loadKafkaConfig, type KafkaAdmin } from '../adapters/kafka';
import { compareRuns, type Comparison, type RunOutcome } from './compare';
import { flushRedisDb, killWorker, motoPid, redisServerPid, restartKafka, resumeAll, suspendFor, listenerPid, type KillRecord } from './faults';
import { generateInput, inputSpanMs, startFeed, type FeedMessage, type InputSpec } from './feed';
import { collectOutcome, consumerLag, drainQueue, type Lag } from './observe';
import type { ChaosOptions } from './options';
import { startRunPipeline, type RunPipeline } from './pipeline';
import { planFaults, STAGES, type KillFault, type OutageFault, type PlannedFault } from './plan';
import { startTcpProxy, type TcpProxy } from './proxy';
import { recoveryTimes, type LagSample, type Recovery } from './recovery';
import { createRunResources, sweepStaleRuns, type RunResources } from './resources';
import { verdict, type Check, type DuplicateCause, type InjectedFault, type SkippedFault } from './verdict';

export interface ChaosUi {
  /** A progress line: redrawn in place on a terminal, printed every few seconds otherwise. */
  status(line: string): void;
  /** A line that always stays (phase changes, each fault). */
  event(line: string): void;
}

export interface RunSummary {
  label: 'clean' | 'fault';
  namespace: string;
  redisDb: number;
  sqlitePath: string;
  feedMs: number;
  /** From the end of the feed, or of the last fault if that came later, until the lag was 0 for good. */
  drainMs: number | null;
  drained: boolean;
  /** Per fault: how long until the backlog was back to what the feed rate keeps in flight. */
  recovery: Recovery[];
  /** Lag at or below this counts as caught up. */
  caughtUpLag: number;
  lagSamples: LagSample[];
  restarts: Record<string, number>;
  outcome: Omit<RunOutcome, 'states' | 'snapshots' | 'bars' | 'signals' | 'recent' | 'deliveries'> & {
    symbols: number;
    bars: number;
    ticksInMinuteBars: number;
    signals: number;
    recent: number;
    deliveries: number;
  };
}

export interface ChaosReport {
  startedAt: string;
  finishedAt: string;
  options: ChaosOptions;
  input: InputSpec;
  plan: PlannedFault[];
  faults: InjectedFault[];
  skipped: SkippedFault[];
  clean: RunSummary;
  fault: RunSummary;
  comparison: Comparison;
  duplicates: { explained: DuplicateCause[]; unexplained: DuplicateCause[] };
  checks: Check[];
  ok: boolean;
  logFile: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runChaos(o: ChaosOptions, ui: ChaosUi, signal?: AbortSignal): Promise<ChaosReport> {
  const startedAt = new Date();
  const runId = `${startedAt.getTime().toString(36)}${randomBytes(2).toString('hex')}`;
  // The harness talks to the same local endpoints as its workers (SNS/SQS clients read process.env).
  const baseEnv = { ...applyLocalEnv(process.env) };
  mkdirSync(join(ROOT, o.outDir), { recursive: true });
  const logFile = join(ROOT, o.outDir, `chaos-${runId}.log`);
  const aborted = () => signal?.aborted === true;

  // Simulated time ends two hours ago, so the records are "recent" for both runs.
  const spec: InputSpec = { seed: o.seed, records: o.records, symbols: o.symbols, timeframe: o.timeframe, scenario: o.scenario, startMs: 0 };
  const spanMs = inputSpanMs(spec);
  spec.startMs = Math.floor((Date.now() - spanMs - 2 * 3_600_000) / 60_000) * 60_000;
  const messages = generateInput(spec);
  ui.event(`input: ${messages.length} records, ${o.symbols} symbols, ${o.timeframe} bars, seed ${o.seed}, simulated from ${new Date(spec.startMs).toISOString()}`);

  const plan = planFaults({ seed: o.seed, kills: o.kills, windowMs: o.windowMs, outages: o.outages, durations: o.durations });
  const swept = await sweepStaleRuns(baseEnv).catch((err: unknown) => {
    ui.event(`could not sweep resources of earlier crashed runs: ${(err as Error).message}`);
    return [];
  });
  if (swept.length) ui.event(`removed what crashed runs left behind: ${swept.join(', ')}`);

  const skipped: SkippedFault[] = [];
  const servicePids = preflight(o, baseEnv, skipped);
  for (const s of skipped) ui.event(`cannot inject ${s.kind}: ${s.reason}`);

  const resources: { res: RunResources; groups: string[] }[] = [];
  const cleanupAll = async () => {
    resumeAll();
    if (o.keep) return;
    for (const r of resources) await r.res.cleanup({ groups: r.groups }).catch(() => undefined);
  };

  try {
    // ---- clean run
    ui.event('clean run: creating topics, Redis DB, SNS topic and queue; starting workers');
    const clean = await createRunResources({ runId, label: 'clean', baseEnv, ...(o.redisDbs ? { redisDb: o.redisDbs[0] } : {}) });
    resources.push({ res: clean, groups: [] });
    const cleanResult = await runOnce({ label: 'clean', res: clean, messages, o, ui, logFile, plan: [], servicePids, signal, resources });
    if (aborted()) throw new Error('interrupted');

    // ---- fault run
    ui.event(`fault run: ${plan.filter((f) => f.kind === 'kill').length} kills and ${plan.filter((f) => f.kind !== 'kill').map((f) => f.kind).join(', ') || 'no outages'} over a ${Math.round(o.windowMs / 1000)} s feed`);
    const fault = await createRunResources({ runId, label: 'fault', baseEnv, ...(o.redisDbs ? { redisDb: o.redisDbs[1] } : {}) });
    resources.push({ res: fault, groups: [] });
    const faultResult = await runOnce({ label: 'fault', res: fault, messages, o, ui, logFile, plan, servicePids, signal, resources, skipped });
    if (aborted()) throw new Error('interrupted');

    const comparison = compareRuns(cleanResult.outcome, faultResult.outcome);
    const exhausted = (oc: RunOutcome) => Object.entries(oc.deadLetters).filter(([k]) => k.includes('retries-exhausted')).reduce((a, [, n]) => a + n, 0);
    const v = verdict({
      comparison,
      faults: faultResult.faults,
      skipped,
      faultDeliveries: faultResult.outcome.deliveries,
      exhaustedDeadLetters: { clean: exhausted(cleanResult.outcome), fault: exhausted(faultResult.outcome) },
      drained: { clean: cleanResult.summary.drained, fault: faultResult.summary.drained },
      plannedKills: o.kills,
    });
    return {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      options: o,
      input: spec,
      plan,
      faults: faultResult.faults,
      skipped,
      clean: cleanResult.summary,
      fault: faultResult.summary,
      comparison,
      duplicates: v.duplicates,
      checks: v.checks,
      ok: v.ok,
      logFile,
    };
  } finally {
    await cleanupAll();
  }
}

interface ServicePids {
  redis?: number;
  moto?: number;
  kafkaPort: number;
}

/** Finds the processes the outages act on, before anything is started; what cannot be found is skipped and fails the run. */
function preflight(o: ChaosOptions, env: NodeJS.ProcessEnv, skipped: SkippedFault[]): ServicePids {
  const kafkaPort = Number((env.KAFKA_BROKERS ?? 'localhost:9092').split(',')[0]!.split(':')[1] ?? 9092);
  const pids: ServicePids = { kafkaPort };
  if (o.outages.includes('sns-stop')) {
    try {
      pids.moto = motoPid(ROOT, env.AWS_ENDPOINT_URL);
    } catch (err) {
      skipped.push({ kind: 'sns-stop', reason: (err as Error).message });
    }
  }
  if (o.outages.includes('kafka-restart') && listenerPid(kafkaPort) === undefined) {
    skipped.push({ kind: 'kafka-restart', reason: `no process listens on port ${kafkaPort} that this machine can see` });
  }
  return pids;
}

interface RunOnceArgs {
  label: 'clean' | 'fault';
  res: RunResources;
  messages: FeedMessage[];
  o: ChaosOptions;
  ui: ChaosUi;
  logFile: string;
  plan: PlannedFault[];
  servicePids: ServicePids;
  signal: AbortSignal | undefined;
  resources: { res: RunResources; groups: string[] }[];
  skipped?: SkippedFault[];
}

async function runOnce(a: RunOnceArgs): Promise<{ outcome: RunOutcome; summary: RunSummary; faults: InjectedFault[] }> {
  const { label, res, o, ui } = a;
  const aborted = () => a.signal?.aborted === true;
  const kafka = loadKafkaConfig(res.env);
  // The workers reach Redis and the AWS endpoint through relays the harness can cut for this run alone.
  const redisTarget = new URL(res.redisUrl);
  const awsTarget = new URL(res.env.AWS_ENDPOINT_URL ?? 'http://localhost:4566');
  const redisProxy = await startTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) });
  const awsProxy = await startTcpProxy({ host: awsTarget.hostname, port: Number(awsTarget.port || 80) });
  const proxies = { redis: redisProxy, sns: awsProxy };
  let pipeline: RunPipeline;
  try {
    pipeline = await startRunPipeline(res, {
      env: { ...res.env, REDIS_URL: `redis://127.0.0.1:${redisProxy.port}/${res.redisDb}`, AWS_ENDPOINT_URL: `http://127.0.0.1:${awsProxy.port}` },
      logFile: a.logFile,
      overrides: { ...(o.maxRetries !== undefined ? { maxRetries: o.maxRetries } : {}), ...(o.maxRetryBackoffMs !== undefined ? { maxRetryBackoffMs: o.maxRetryBackoffMs } : {}) },
    });
  } catch (err) {
    await Promise.all([redisProxy.close(), awsProxy.close()]);
    throw err;
  }
  const entry = a.resources.find((r) => r.res === res);
  if (entry) entry.groups = pipeline.groups.map((g) => g.groupId);
  let admin: KafkaAdmin = createAdmin(kafka);
  const faults: InjectedFault[] = [];
  try {
    ui.event(`${label} run: workers ready (${pipeline.functions.map((f) => f.name).join(', ')}); feeding ${a.messages.length} records${label === 'fault' ? ` at ${(a.messages.length / (o.windowMs / 1000)).toFixed(1)}/s` : ' as fast as the broker takes them'}`);
    const feed = startFeed({
      topic: res.topics.ticks,
      messages: a.messages,
      env: res.env,
      ...(label === 'fault' ? { ratePerSecond: a.messages.length / (o.windowMs / 1000) } : {}),
      onError: (err) => ui.event(`${label} feed: send failed, retrying: ${err.message}`),
    });
    // Ctrl-C: stop feeding at once; what follows sees aborted() and skips to the cleanup.
    const onAbort = () => void feed.close();
    a.signal?.addEventListener('abort', onAbort, { once: true });
    const feedStarted = Date.now();
    let lastLag: Lag | undefined;
    const samples: LagSample[] = [];
    const rate = label === 'fault' ? a.messages.length / (o.windowMs / 1000) : 0;
    // Each tick is consumed by process and aggregate, and begets an indicator bar: a healthy backlog is a few seconds of that.
    const caughtUpLag = Math.max(50, Math.ceil(rate * 3 * 2));
    let current = '';
    const killsDone: KillRecord[] = [];

    // Fault loops: outages one after another, kills on their own clock.
    const outageLoop = (async () => {
      for (const f of a.plan.filter((p): p is OutageFault => p.kind !== 'kill')) {
        if (a.skipped?.some((s) => s.kind === f.kind)) continue;
        await sleepUntil(feedStarted + f.atMs, aborted);
        if (aborted()) return;
        current = `${f.kind}${f.durationMs ? ` (${Math.round(f.durationMs / 1000)} s)` : ''}`;
        ui.event(`  ${clock(feedStarted)} ${f.kind} begins`);
        try {
          const done = await injectOutage(f, { res, proxies, servicePids: a.servicePids, pauseFeed: () => feed.pause(), resumeFeed: () => feed.resume(), log: (l) => ui.status(`${f.kind}: ${l}`), aborted });
          faults.push(done);
          ui.event(`  ${clock(feedStarted)} ${f.kind} over after ${((done.endedAt - done.at) / 1000).toFixed(1)} s${'detail' in done && done.detail ? ` (${done.detail})` : ''}`);
        } catch (err) {
          a.skipped?.push({ kind: f.kind, reason: (err as Error).message });
          ui.event(`  ${clock(feedStarted)} ${f.kind} FAILED to inject: ${(err as Error).message}`);
        } finally {
          current = '';
        }
      }
    })();
    // One loop per stage: a kill waiting for its worker to come back does not hold up the others.
    const killLoops = STAGES.map(async (stage) => {
      for (const k of a.plan.filter((p): p is KillFault => p.kind === 'kill' && p.target === stage)) {
        await sleepUntil(feedStarted + k.atMs, aborted);
        if (aborted()) return;
        try {
          const rec = await killWorker(pipeline.supervisor, k.target, k.aim, k.n, { sqlitePath: res.sqlitePath, shouldStop: aborted });
          faults.push(rec);
          killsDone.push(rec);
          ui.event(`  ${clock(feedStarted)} kill #${k.n} ${k.target} (pid ${rec.pid}, aimed ${k.aim}): ${rec.midTransaction ? 'mid-transaction' : rec.midBatch ? 'mid-batch' : 'between batches'}`);
        } catch (err) {
          a.skipped?.push({ kind: `kill #${k.n} (${k.target})`, reason: (err as Error).message });
          ui.event(`  ${clock(feedStarted)} kill #${k.n} ${k.target} not done: ${(err as Error).message}`);
        }
      }
    });

    const ticker = setInterval(() => {
      void (async () => {
        try {
          lastLag = await consumerLag(admin, pipeline.groups, Object.values(res.topics), res.partitions);
          samples.push({ t: Date.now(), lag: lastLag.total });
        } catch {
          lastLag = undefined;
          samples.push({ t: Date.now(), lag: null });
          await admin.close().catch(() => undefined);
          admin = createAdmin(kafka);
        }
        const elapsed = Date.now() - feedStarted;
        const mid = killsDone.filter((k) => k.midBatch).length;
        const parts = [
          `${label} run ${fmtS(elapsed)}${label === 'fault' ? `/${fmtS(o.windowMs)}` : ''}`,
          `fed ${feed.sent}/${feed.total}`,
          label === 'fault' ? `kills ${killsDone.length}/${o.kills} (${mid} mid-batch)` : '',
          current ? `now: ${current}` : '',
          `lag ${lastLag ? lastLag.total : '?'}`,
        ];
        ui.status(parts.filter(Boolean).join(' | '));
      })();
    }, 1_000);

    try {
      await feed.done;
      const feedMs = Date.now() - feedStarted;
      await Promise.all([outageLoop, ...killLoops]);
      await feed.close();
      if (aborted()) throw new Error('interrupted');
      const lastFaultEnd = Math.max(feedStarted + feedMs, ...faults.map((f) => (f.kind === 'kill' ? f.at : f.endedAt)));
      ui.event(`${label} run: feed done in ${fmtS(feedMs)}; waiting for the pipeline to drain (bound ${fmtS(o.drainTimeoutMs)})`);
      const drain = await waitForDrain(() => admin, pipeline, res, { since: lastFaultEnd, timeoutMs: o.drainTimeoutMs, quietMs: o.quietMs, aborted, onLag: (l) => {
        lastLag = l;
        samples.push({ t: Date.now(), lag: l.total });
      }, recreate: async () => {
        await admin.close().catch(() => undefined);
        admin = createAdmin(kafka);
      } });
      clearInterval(ticker);
      ui.event(`${label} run: ${drain.drained ? `drained ${fmtS(drain.drainMs!)} after the ${label === 'fault' && lastFaultEnd > feedStarted + feedMs ? 'last fault' : 'feed'}` : `NOT drained within ${fmtS(o.drainTimeoutMs)} (lag ${drain.lag?.total ?? '?'}: ${JSON.stringify(drain.lag?.byGroup ?? {})})`}; collecting`);
      faults.sort((x, y) => x.at - y.at);
      const restarts = Object.fromEntries(pipeline.functions.map((f) => [f.name, pipeline.supervisor.restarts(f.name)]));
      await pipeline.stop();
      const deliveries = await drainQueue(res.queueUrl);
      const outcome = await collectOutcome(res, deliveries);
      const summary: RunSummary = {
        label,
        namespace: res.namespace,
        redisDb: res.redisDb,
        sqlitePath: res.sqlitePath,
        feedMs,
        drainMs: drain.drainMs,
        drained: drain.drained,
        recovery: recoveryTimes(samples, faults, caughtUpLag),
        caughtUpLag,
        lagSamples: samples,
        restarts,
        outcome: {
          input: outcome.input,
          signalMessages: outcome.signalMessages,
          deadLetters: outcome.deadLetters,
          symbols: Object.keys(outcome.states).length,
          bars: outcome.bars.length,
          ticksInMinuteBars: outcome.bars.filter((b) => b.interval === '1m').reduce((s, b) => s + b.trades, 0),
          signals: outcome.signals.length,
          recent: outcome.recent.length,
          deliveries: outcome.deliveries.length,
        },
      };
      return { outcome, summary, faults };
    } finally {
      clearInterval(ticker);
      a.signal?.removeEventListener('abort', onAbort);
      resumeAll();
      await feed.close();
    }
  } finally {
    await pipeline.stop().catch(() => undefined);
    await admin.close().catch(() => undefined);
    await Promise.all([redisProxy.close(), awsProxy.close()]);
  }
}

type OutageRecord = Exclude<InjectedFault, { kind: 'kill' }>;

async function injectOutage(
  f: OutageFault,
  ctx: { res: RunResources; proxies: { redis: TcpProxy; sns: TcpProxy }; servicePids: ServicePids; pauseFeed: () => Promise<void>; resumeFeed: () => void; log: (line: string) => void; aborted: () => boolean },
): Promise<OutageRecord> {
  switch (f.kind) {
    case 'redis-stop': {
      const pid = await redisServerPid(ctx.res.redisUrl);
      const t = await suspendFor(pid, f.durationMs, ctx.aborted);
      return { kind: f.kind, ...t, detail: `SIGSTOP/SIGCONT of redis-server pid ${pid}` };
    }
    case 'sns-stop': {
      const pid = ctx.servicePids.moto;
      if (!pid) throw new Error('no moto pid');
      const t = await suspendFor(pid, f.durationMs, ctx.aborted);
      return { kind: f.kind, ...t, detail: `SIGSTOP/SIGCONT of moto pid ${pid}` };
    }
    case 'redis-down':
    case 'sns-down': {
      const proxy = f.kind === 'redis-down' ? ctx.proxies.redis : ctx.proxies.sns;
      const at = Date.now();
      await proxy.goDown();
      try {
        const until = at + f.durationMs;
        while (Date.now() < until && !ctx.aborted()) await sleep(Math.min(250, until - Date.now()));
      } finally {
        await proxy.up();
      }
      return { kind: f.kind, at, endedAt: Date.now(), detail: `connections reset and refused (${f.kind === 'redis-down' ? 'Redis' : 'AWS endpoint'})` };
    }
    case 'redis-flush': {
      const t = await flushRedisDb(ctx.res.redisUrl);
      return { kind: f.kind, ...t };
    }
    case 'kafka-restart': {
      await ctx.pauseFeed();
      try {
        const t = await restartKafka(ROOT, ctx.servicePids.kafkaPort, ctx.log);
        return { kind: f.kind, ...t };
      } finally {
        ctx.resumeFeed();
      }
    }
  }
}

async function waitForDrain(
  admin: () => KafkaAdmin,
  pipeline: RunPipeline,
  res: RunResources,
  o: { since: number; timeoutMs: number; quietMs: number; aborted: () => boolean; onLag: (l: Lag) => void; recreate: () => Promise<void> },
): Promise<{ drained: boolean; drainMs: number | null; lag?: Lag }> {
  const deadline = Date.now() + o.timeoutMs;
  let zeroSince: number | undefined;
  let zeroProduced = -1;
  let lag: Lag | undefined;
  while (Date.now() < deadline && !o.aborted()) {
    try {
      lag = await consumerLag(admin(), pipeline.groups, Object.values(res.topics), res.partitions);
      o.onLag(lag);
      if (lag.total === 0 && (zeroSince === undefined || lag.produced === zeroProduced)) {
        if (zeroSince === undefined) {
          zeroSince = Date.now();
          zeroProduced = lag.produced;
        }
        if (Date.now() - zeroSince >= o.quietMs) return { drained: true, drainMs: Math.max(0, zeroSince - o.since), lag };
      } else {
        zeroSince = undefined;
      }
    } catch {
      zeroSince = undefined;
      await o.recreate();
    }
    await sleep(500);
  }
  return { drained: false, drainMs: null, ...(lag ? { lag } : {}) };
}

async function sleepUntil(t: number, aborted: () => boolean): Promise<void> {
  while (Date.now() < t && !aborted()) await sleep(Math.min(250, t - Date.now()));
}

function fmtS(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

function clock(since: number): string {
  return `[+${((Date.now() - since) / 1000).toFixed(1).padStart(6)} s]`;
}
