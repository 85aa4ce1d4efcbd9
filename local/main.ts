/**
 * `npm start`: the whole pipeline on this machine. Stream functions run in worker
 * processes fed by the Kafka event source mapping emulator; the HTTP functions sit
 * behind the local API Gateway adapter; a generator feeds ticks at a steady rate;
 * signals are printed as they arrive through SNS on an SQS queue, exactly as a
 * subscriber would receive them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyLocalEnv, ensureLocalAwsResources, ROOT } from './env';

applyLocalEnv();

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: process.env.FEED_RATE ?? '20' },
    symbols: { type: 'string', default: process.env.FEED_SYMBOLS ?? '8' },
    scenario: { type: 'string', default: process.env.FEED_SCENARIO ?? 'mixed' },
    seed: { type: 'string', default: process.env.FEED_SEED ?? '42' },
    'no-feed': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    verbose: { type: 'boolean', short: 'v', default: false },
    'no-signal-feed': { type: 'boolean', default: false },
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  console.log(`Usage: npm start -- [--rate N] [--symbols N|A,B] [--scenario NAME] [--seed N] [--no-feed] [--keep] [--port N] [--verbose]
Runs the local stack, the pipeline and a generator feeding it. Ctrl-C stops it.
Each start begins a fresh simulated market; --keep keeps the previous run's data (and sends no feed).`);
  process.exit(0);
}

// A log line per batch from every worker would bury the signal lines; --verbose shows them.
if (!args.verbose) {
  process.env.LOG_LEVEL ??= 'WARN';
  process.env.RUNTIME_LOG_LEVEL ??= 'warn';
}

// Loaded after applyLocalEnv: the handler modules read their configuration at import.
const { startSupervisor } = await import('./runtime/supervisor');
const { streamFunctions, httpFunctions } = await import('./runtime/functions');
const { createLocalApi } = await import('./runtime/http-adapter');
const { loadHttpRoutes } = await import('./http-routes');
const { startSignalFeed } = await import('./signal-feed');

const c = { dim: '\x1b[2m', bold: '\x1b[1m', green: '\x1b[32m', red: '\x1b[31m', cyan: '\x1b[36m', reset: '\x1b[0m' };
const say = (msg: string) => console.log(`${c.cyan}[main]${c.reset} ${msg}`);

// Rebuilt on every start (a fraction of a second) so a stale dashboard is never served.
const { buildDashboard } = await import('../web/build');
await buildDashboard({});

if (!args.keep) {
  const { resetLocalState } = await import('./fresh-start');
  await resetLocalState();
  say('fresh market: previous stage state, changelog and SQLite store cleared (--keep keeps them)');
}
const { topicArn } = await ensureLocalAwsResources();
// The API first: a taken port fails here, before any worker process is started.
const api = await createLocalApi({ routes: await loadHttpRoutes(httpFunctions()), port: Number(args.port), host: '127.0.0.1', accountId: process.env.AWS_ACCOUNT_ID });
say(`API listening on ${c.bold}${api.url}${c.reset}`);
const functions = streamFunctions();
const supervisor = startSupervisor({ functions, env: process.env, output: (line) => console.log(`${c.dim}${line}${c.reset}`) });
await Promise.all(functions.map((f) => supervisor.waitUntilReady(f.name, 120_000)));
say(`stream functions ready: ${functions.map((f) => f.name).join(', ')}`);

const feed = args['no-signal-feed'] ? undefined : await startSignalFeed(topicArn, (line, side) => console.log(`${side === 'BUY' ? c.green : c.red}[signal]${c.reset} ${line}`));

/**
 * The feed sends one-minute bars at --rate, so simulated time runs faster than the
 * clock and charts, indicators and signals move while you watch. Five simulated days
 * keep every timestamp inside ingest's 7-day window; at 20 bars/s over 8 symbols that
 * is about 48 minutes of feed.
 */
const FEED_SIMULATED_SECONDS = 5 * 86_400;
let generator: ChildProcess | undefined;
if (!args['no-feed'] && !args.keep) {
  generator = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'cli', 'generate.ts'), '--target', api.url, '--rate', String(args.rate), '--symbols', String(args.symbols), '--scenario', String(args.scenario), '--seed', String(args.seed), '--duration', String(FEED_SIMULATED_SECONDS), '--timeframe', '1m'],
    { stdio: ['ignore', 'inherit', 'inherit'], env: process.env },
  );
  generator.on('exit', (code) => { if (!stopping) say(`the feed finished (exit ${code}); the pipeline keeps running — post more with npm run generate`); });
  say(`feeding ${args.rate} bars/s (${args.scenario}, seed ${args.seed})`);
}

console.log(`
${c.bold}Stock stream is running locally.${c.reset}
  Dashboard   ${api.url}/
  API         ${api.url}        (OpenAPI: ${api.url}/openapi.json)
  Try         curl -s ${api.url}/symbols | head -c 600
              curl -s '${api.url}/signals?limit=5'
              curl -s -X POST ${api.url}/ticks -H 'content-type: application/json' \\
                   -d '{"symbol":"DEMO","timestamp":"${new Date().toISOString()}","open":10,"high":10.5,"low":9.8,"close":10.2,"volume":1200}'
  Signals     printed below as they reach an SQS queue subscribed to the SNS topic
  Stop        Ctrl-C (the Kafka/Redis/moto services keep running; npm run stack:down stops them)
`);

let stopping = false;
async function stop(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  // Ctrl-C reaches the workers too; the supervisor must already know it is stopping so
  // it does not take their exits for crashes and restart them.
  const workers = supervisor.stop();
  generator?.kill('SIGINT');
  await Promise.all([workers, feed?.stop(), api.close()]);
  say('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
