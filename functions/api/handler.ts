import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createRedis } from '../../shared/adapters/redis';
import { createSnsClient } from '../../shared/adapters/sns';
import { createApi, type StaticServer } from '../../shared/api/app';
import { loadApiConfig } from '../../shared/api/config';
import type { HttpResult } from '../../shared/http/response';
import { createLogger } from '../../shared/logger';
import { readOnlyStore } from '../../shared/store/db';

/**
 * api: the Query API, subscriptions and the dashboard. Clients live at module
 * scope so a warm container reuses its Redis connection and SQLite handle.
 */

const log = createLogger('api');
const config = loadApiConfig();
const store = readOnlyStore(config.sqlitePath);

async function loadStatic(): Promise<StaticServer | undefined> {
  try {
    const mod = (await import('../../web/static')) as { serveStatic?: StaticServer };
    return mod.serveStatic;
  } catch (err) {
    log.warn('dashboard module not available; GET / answers 404', { error: (err as Error).message });
    return undefined;
  }
}

// Started at load, awaited on the first dashboard request (no top-level await: the bundle may not be ESM).
const staticServer = loadStatic();

const app = createApi({
  db: store.get,
  redis: createRedis(),
  sns: createSnsClient(),
  config,
  serveStatic: async (event) => (await staticServer)?.(event),
  onError: (err, event) => log.error('unhandled error', { error: err as Error, method: event.requestContext?.http?.method, path: event.rawPath }),
});

export const handler = (event: APIGatewayProxyEventV2): Promise<HttpResult> => app(event);
