/**
 * The HTTP API's routes and which function answers each. Write routes carry the JWT
 * authorizer; read routes (and the dashboard) are public.
 */
export type RouteTarget = 'ingest' | 'api';
export type HttpMethodName = 'GET' | 'POST' | 'DELETE';

export interface RouteSpec {
  readonly method: HttpMethodName;
  readonly path: string;
  readonly target: RouteTarget;
  readonly auth: boolean;
}

export const ROUTES: readonly RouteSpec[] = [
  { method: 'POST', path: '/ticks', target: 'ingest', auth: true },
  { method: 'POST', path: '/ingest', target: 'ingest', auth: true },
  { method: 'GET', path: '/health', target: 'api', auth: false },
  { method: 'GET', path: '/symbols', target: 'api', auth: false },
  { method: 'GET', path: '/symbols/{symbol}', target: 'api', auth: false },
  { method: 'GET', path: '/symbols/{symbol}/bars', target: 'api', auth: false },
  { method: 'GET', path: '/signals', target: 'api', auth: false },
  { method: 'GET', path: '/market/overview', target: 'api', auth: false },
  { method: 'GET', path: '/openapi.json', target: 'api', auth: false },
  { method: 'POST', path: '/subscriptions', target: 'api', auth: true },
  { method: 'GET', path: '/subscriptions/{id}', target: 'api', auth: true },
  { method: 'DELETE', path: '/subscriptions/{id}', target: 'api', auth: true },
  { method: 'GET', path: '/', target: 'api', auth: false },
  { method: 'GET', path: '/assets/{proxy+}', target: 'api', auth: false },
];
