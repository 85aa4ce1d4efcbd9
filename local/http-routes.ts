import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { ROOT } from './env';
import type { HttpFunctionDefinition } from './runtime/functions';
import type { HttpHandler, RouteDefinition } from './runtime/http-adapter';
import { rateLimited } from './rate-limit';

/** Routes of the HTTP functions, each bound to its handler, as API Gateway would. */
export async function loadHttpRoutes(defs: HttpFunctionDefinition[]): Promise<RouteDefinition[]> {
  const routes: RouteDefinition[] = [];
  for (const def of defs) {
    const mod = (await import(pathToFileURL(resolve(ROOT, def.handlerModule)).href)) as { handler: HttpHandler };
    const handler = withLocalAuth(rateLimited(mod.handler));
    for (const routeKey of def.routes) routes.push({ routeKey, handler, functionName: def.name, timeoutMs: def.timeoutMs });
  }
  return routes;
}

const WRITE_ROUTE = /^(POST \/ticks|POST \/ingest|(POST|GET|DELETE) \/subscriptions)/;

/**
 * The cloud protects write routes with a JWT authorizer. Locally the API listens on
 * 127.0.0.1 only; setting API_TOKEN additionally requires `Authorization: Bearer
 * <token>` on the same routes, so the auth path can be exercised without Cognito.
 */
function withLocalAuth(handler: HttpHandler): HttpHandler {
  const token = process.env.API_TOKEN;
  if (!token) return handler;
  return (event, context) => {
    if (WRITE_ROUTE.test(event.routeKey) && event.headers?.authorization !== `Bearer ${token}`) {
      return { statusCode: 401, headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }, body: JSON.stringify({ error: { code: 'unauthorized', message: 'This route needs Authorization: Bearer <API_TOKEN>' } }) };
    }
    return handler(event, context);
  };
}
