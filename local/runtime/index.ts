/**
 * The local Lambda runtime in one call: stream functions in supervised worker
 * processes behind Kafka event source mapping emulators, HTTP functions behind a
 * local API Gateway (payload format 2.0) in this process. The caller sets up the
 * environment (endpoints, topic names) before calling, exactly as CDK would for
 * the deployed functions.
 */
import { createLocalApi, type LocalApi, type RouteDefinition } from './http-adapter';
import { loadHandler } from './function-loader';
import { httpFunctions, streamFunctions, type FunctionDefinition, type HttpFunctionDefinition } from './functions';
import type { HttpHandler } from './http-adapter';
import { createConsoleLogger, type RuntimeLogger } from './logger';
import { startSupervisor, type Supervisor } from './supervisor';

export * from './event-source-mapping';
export * from './functions';
export * from './http-adapter';
export * from './kafka-event';
export * from './supervisor';
export { createConsoleLogger, silentLogger, type RuntimeLogger } from './logger';

export interface LocalRuntimeOptions {
  /** Stream functions to run; default all of streamFunctions(). */
  streamFunctions?: FunctionDefinition[];
  /** HTTP functions to serve; default all of httpFunctions(); [] for none. */
  httpFunctions?: HttpFunctionDefinition[];
  /** HTTP port, default PORT or 3000; 0 picks a free one. */
  port?: number;
  host?: string;
  /** Stop everything on SIGINT/SIGTERM. Default true. */
  handleSignals?: boolean;
  output?: (line: string) => void;
  logger?: RuntimeLogger;
}

export interface LocalRuntime {
  supervisor: Supervisor;
  api?: LocalApi;
  /** Resolves once every stream worker reports its mappings running. */
  ready(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function httpRoutes(defs: HttpFunctionDefinition[]): Promise<RouteDefinition[]> {
  const routes: RouteDefinition[] = [];
  for (const def of defs) {
    const handler = (await loadHandler({ name: def.name, handlerModule: def.handlerModule, eventSources: [], timeoutMs: def.timeoutMs })) as unknown as HttpHandler;
    for (const routeKey of def.routes) routes.push({ routeKey, handler, functionName: def.name, timeoutMs: def.timeoutMs });
  }
  return routes;
}

export async function startLocalRuntime(opts: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const logger = opts.logger ?? createConsoleLogger('runtime');
  const streams = opts.streamFunctions ?? streamFunctions();
  const https = opts.httpFunctions ?? httpFunctions();
  const supervisor = startSupervisor({ functions: streams, logger, ...(opts.output ? { output: opts.output } : {}) });
  let api: LocalApi | undefined;
  try {
    if (https.length > 0) {
      api = await createLocalApi({ routes: await httpRoutes(https), port: opts.port ?? Number(process.env.PORT ?? 3000), ...(opts.host ? { host: opts.host } : {}), logger });
      logger.info(`HTTP API listening on ${api.url}`);
    }
  } catch (err) {
    await supervisor.stop();
    throw err;
  }
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= Promise.all([supervisor.stop(), api?.close()]).then(() => undefined);
    return stopped;
  };
  if (opts.handleSignals ?? true) {
    const onSignal = (sig: NodeJS.Signals): void => {
      logger.info(`received ${sig}; stopping`);
      void stop().then(() => process.exit(0));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return {
    supervisor,
    ...(api ? { api } : {}),
    ready: async (timeoutMs = 120_000) => {
      await Promise.all(streams.map((f) => supervisor.waitUntilReady(f.name, timeoutMs)));
    },
    stop,
  };
}
