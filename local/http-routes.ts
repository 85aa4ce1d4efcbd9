import type { HttpFunctionDefinition } from './runtime/functions';
import type { HttpHandler, RouteDefinition } from './runtime/http-adapter';
import { httpRoutes } from './runtime/index';
import { rateLimited, tokenBucket } from './rate-limit';

/**
 * The HTTP functions' routes as API Gateway serves them in the cloud: stage
 * throttling in front of every route, and auth in front of the write routes.
 */
export async function loadHttpRoutes(defs: HttpFunctionDefinition[]): Promise<RouteDefinition[]> {
  // One bucket for the whole API, like a stage's throttle.
  const take = tokenBucket();
  return (await httpRoutes(defs)).map((r) => ({ ...r, handler: rateLimited(withLocalAuth(r.routeKey, r.handler), take) }));
}

const WRITE_ROUTE = /^(POST \/ticks|POST \/ingest|(POST|GET|DELETE) \/subscriptions)/;

/**
 * The cloud protects write routes with a JWT authorizer. Locally the API listens on
 * 127.0.0.1 only; setting API_TOKEN additionally requires `Authorization: Bearer
 * <token>` on the same routes, so the auth path can be exercised without Cognito.
 */
function withLocalAuth(routeKey: string, handler: HttpHandler): HttpHandler {
  const token = process.env.API_TOKEN;
  if (!token || !WRITE_ROUTE.test(routeKey)) return handler;
  return (event, context) => {
    if (event.headers?.authorization !== `Bearer ${token}`) {
      return { statusCode: 401, headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }, body: JSON.stringify({ error: { code: 'unauthorized', message: 'This route needs Authorization: Bearer <API_TOKEN>' } }) };
    }
    return handler(event, context);
  };
}
