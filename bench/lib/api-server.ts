/**
 * Child-process entry: the local HTTP API (the ingest and api functions behind the
 * API Gateway adapter), as `npm start` serves it, in a process of its own so that
 * the benchmark's load generator does not share a CPU budget with ingest, and the
 * ingest CPU can be read from /proc. Started with the sandbox's environment.
 *
 * IPC protocol: sends {type:'listening', url, pid} once up; answers {type:'stats'}
 * with {type:'stats', stats} (POST /ticks invocations, summed wall ms, status codes).
 */
import { loadHttpRoutes } from '../../local/http-routes';
import { httpFunctions } from '../../local/runtime/functions';
import { createLocalApi, type HttpHandler } from '../../local/runtime/http-adapter';
import { silentLogger } from '../../local/runtime/logger';

export interface IngestStats {
  invocations: number;
  /** Sum of per-invocation wall ms, each rounded up to a whole ms. */
  billedMs: number;
  statusCounts: Record<string, number>;
}

export type ApiServerMessage = { type: 'listening'; url: string; pid: number } | { type: 'stats'; stats: IngestStats };

const stats: IngestStats = { invocations: 0, billedMs: 0, statusCounts: {} };

function timed(handler: HttpHandler): HttpHandler {
  return async (event, context) => {
    const t0 = performance.now();
    const result = await handler(event, context);
    stats.invocations++;
    // Concurrent requests share this process's CPU, so wall time overstates a lone Lambda's; CPU comes from /proc instead.
    stats.billedMs += Math.max(1, Math.ceil(performance.now() - t0));
    const status = String((result as { statusCode?: number } | null)?.statusCode ?? '?');
    stats.statusCounts[status] = (stats.statusCounts[status] ?? 0) + 1;
    return result;
  };
}

const routes = (await loadHttpRoutes(httpFunctions())).map((r) => (r.routeKey === 'POST /ticks' ? { ...r, handler: timed(r.handler) } : r));
const api = await createLocalApi({ routes, port: 0, host: '127.0.0.1', logger: silentLogger, accountId: process.env.AWS_ACCOUNT_ID });

const send = (msg: ApiServerMessage): void => {
  if (process.send && process.connected) process.send(msg);
};
process.on('message', (msg: unknown) => {
  if ((msg as { type?: string } | null)?.type === 'stats') send({ type: 'stats', stats: { ...stats, statusCounts: { ...stats.statusCounts } } });
});
const stop = (): void => {
  void api.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
send({ type: 'listening', url: api.url, pid: process.pid });
