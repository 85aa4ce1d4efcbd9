import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { httpError, type HttpResult } from '../http/response';
import { ApiError } from './errors';

/**
 * A small router over API Gateway v2 (payload 2.0) events. It matches the
 * request's own method and raw path against the route patterns, so it behaves
 * the same behind a catch-all `$default` route, behind one route per path, and
 * in the local runtime. Path parameters are percent-decoded here, once; a
 * malformed escape is a 400, never an exception.
 */

export interface RouteRequest {
  event: APIGatewayProxyEventV2;
  params: Record<string, string>;
}

export type RouteHandler = (req: RouteRequest) => Promise<HttpResult> | HttpResult;

export interface Route {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  /** API Gateway path syntax: `/symbols/{symbol}/bars`, `/assets/{proxy+}`. */
  path: string;
  handler: RouteHandler;
}

type Segment = { kind: 'literal'; text: string } | { kind: 'param'; name: string } | { kind: 'greedy'; name: string };

interface Compiled extends Route {
  segments: Segment[];
}

function compile(path: string): Segment[] {
  return splitPath(path).map((s): Segment => {
    const greedy = /^\{(\w+)\+\}$/.exec(s);
    if (greedy) return { kind: 'greedy', name: greedy[1]! };
    const param = /^\{(\w+)\}$/.exec(s);
    if (param) return { kind: 'param', name: param[1]! };
    return { kind: 'literal', text: s };
  });
}

function splitPath(path: string): string[] {
  const trimmed = path.length > 1 ? path.replace(/\/$/, '') : path;
  return trimmed === '/' || trimmed === '' ? [] : trimmed.replace(/^\//, '').split('/');
}

export class PathDecodeError extends Error {}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new PathDecodeError(segment);
  }
}

function match(route: Compiled, parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const seg = route.segments[i]!;
    if (seg.kind === 'greedy') {
      if (i >= parts.length) return undefined;
      params[seg.name] = parts.slice(i).map(decode).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (seg.kind === 'literal') {
      if (part !== seg.text) return undefined;
    } else {
      if (part === '') return undefined;
      params[seg.name] = decode(part);
    }
  }
  return parts.length === route.segments.length ? params : undefined;
}

export interface RouterOptions {
  /** Called with unexpected errors (bugs), which are answered with a 500 that reveals nothing. */
  onError?: (err: unknown, event: APIGatewayProxyEventV2) => void;
}

export function createRouter(routes: Route[], opts: RouterOptions = {}): (event: APIGatewayProxyEventV2) => Promise<HttpResult> {
  const compiled: Compiled[] = routes.map((r) => ({ ...r, segments: compile(r.path) }));
  return async (event) => {
    const requested = (event.requestContext?.http?.method ?? 'GET').toUpperCase();
    // HEAD is GET without a body (same status and headers, ETag included).
    const method = requested === 'HEAD' ? 'GET' : requested;
    const rawPath = event.rawPath ?? event.requestContext?.http?.path ?? '/';
    try {
      if (rawPath.length > 2048) throw new ApiError(414, 'uri_too_long', 'The request path is longer than 2048 characters');
      const parts = splitPath(rawPath);
      const allowed = new Set<string>();
      for (const route of compiled) {
        const params = match(route, parts);
        if (!params) continue;
        if (route.method !== method) {
          allowed.add(route.method);
          continue;
        }
        const res = await route.handler({ event, params });
        return requested === 'HEAD' ? { ...res, body: '' } : res;
      }
      if (allowed.size) {
        const allow = [...allowed].sort().join(', ');
        throw new ApiError(405, 'method_not_allowed', `${method} is not allowed on ${rawPath.slice(0, 200)}; allowed: ${allow}`, undefined, { allow });
      }
      throw new ApiError(404, 'not_found', `No route for ${method} ${rawPath.slice(0, 200)}`);
    } catch (err) {
      if (err instanceof ApiError) return err.toResponse();
      if (err instanceof PathDecodeError) return httpError(400, 'invalid_path', 'The request path contains a malformed percent-escape');
      const code = (err as { code?: unknown })?.code;
      // Transient store conditions: the writer holds the lock, or crashed and left a hot journal
      // that only it can roll back (a read-only connection cannot), or EFS hiccuped.
      if (typeof code === 'string' && /^SQLITE_(BUSY|LOCKED|READONLY_ROLLBACK|IOERR|CANTOPEN|PROTOCOL)/.test(code)) {
        return { ...httpError(503, 'service_unavailable', 'The history store is busy; retry later'), headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' } };
      }
      opts.onError?.(err, event);
      return httpError(500, 'internal_error', 'Internal error');
    }
  };
}
