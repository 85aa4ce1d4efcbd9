/**
 * Child-process entry point: one function's "execution environment". Loads the
 * function's handler module and runs its Kafka event source mappings until told
 * to stop. A process per function means a chaos harness can kill -9 one
 * function and watch it recover from its committed offsets, as Lambda would.
 *
 *   node --import tsx local/runtime/worker.ts <function-name>
 *
 * The definition comes from LOCAL_RUNTIME_FUNCTION (JSON, set by the supervisor)
 * or else from the table in functions.ts.
 */
import { createProducer, loadKafkaConfig } from '../../shared/adapters/kafka';
import { ConcurrencyGate, startEventSourceMapping, type EventSourceMapping } from './event-source-mapping';
import { loadDefinition, loadHandler } from './function-loader';
import { createConsoleLogger } from './logger';

export type WorkerMessage =
  | { type: 'ready'; pid: number; groups: string[] }
  | { type: 'stats'; stats: Record<string, unknown> };

function send(msg: WorkerMessage): void {
  if (process.send && process.connected) process.send(msg);
}

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name) throw new Error('usage: worker.ts <function-name>');
  const logger = createConsoleLogger(`worker:${name}`);
  const def = loadDefinition(name);
  // What the Lambda runtime sets, so handlers (and Powertools) see the same environment.
  process.env.AWS_LAMBDA_FUNCTION_NAME = def.name;
  process.env.AWS_LAMBDA_FUNCTION_VERSION = '$LATEST';
  process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ??= '1024';
  process.env.AWS_REGION ??= 'us-east-1';
  for (const [k, v] of Object.entries(def.environment ?? {})) process.env[k] = v;

  const handler = await loadHandler(def);
  const kafka = loadKafkaConfig();
  const producer = createProducer(kafka);
  const gate = def.reservedConcurrency ? new ConcurrencyGate(def.reservedConcurrency) : undefined;
  const mappings: EventSourceMapping[] = [];

  let shuttingDown = false;
  const shutdown = async (code: number): Promise<never> => {
    if (!shuttingDown) {
      shuttingDown = true;
      const timer = setTimeout(() => process.exit(code || 1), 15_000);
      timer.unref();
      await Promise.allSettled(mappings.map((m) => m.stop()));
      await producer.close().catch(() => {});
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));
  // Parent gone (supervisor crashed or was killed): do not linger as an orphan consumer.
  process.on('disconnect', () => void shutdown(0));
  process.on('message', (msg: unknown) => {
    if ((msg as { type?: string } | null)?.type === 'stats') {
      send({ type: 'stats', stats: Object.fromEntries(mappings.map((m) => [m.groupId, { ...m.stats }])) });
    }
  });

  for (const source of def.eventSources) {
    mappings.push(
      await startEventSourceMapping({
        ...source,
        functionName: def.name,
        handler,
        kafka,
        producer,
        ...(gate ? { gate } : {}),
        timeoutMs: def.timeoutMs,
        // One worker per function at a time, so a fixed static member id lets a restarted worker take over its partitions at once.
        groupInstanceId: `${def.name}-worker`,
        // Lambda recycles an execution environment whose invocation timed out; the supervisor restarts us likewise.
        onTimeout: (err) => {
          logger.error('handler timed out; recycling the worker', { error: err.message });
          void shutdown(1);
        },
        logger,
      }),
    );
  }
  send({ type: 'ready', pid: process.pid, groups: mappings.map((m) => m.groupId) });
}

main().catch((err: unknown) => {
  console.error(`worker ${process.argv[2] ?? '?'} failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
