import type { HttpHandler } from './runtime/http-adapter';

/**
 * The stand-in for API Gateway stage throttling: one token bucket per API, steady
 * rate RATE_LIMIT_RPS (default 10,000, the account default) with a burst of half
 * that, answering 429 with Retry-After like API Gateway does.
 */
export function rateLimited(handler: HttpHandler, rps = Number(process.env.RATE_LIMIT_RPS ?? 10_000), burst = Math.max(1, Math.floor(rps / 2))): HttpHandler {
  let tokens = burst;
  let last = performance.now();
  return (event, context) => {
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * rps);
    last = now;
    if (tokens < 1) {
      return { statusCode: 429, headers: { 'content-type': 'application/json', 'retry-after': '1' }, body: JSON.stringify({ error: { code: 'too_many_requests', message: `Rate limit of ${rps} requests/s exceeded; retry later` } }) };
    }
    tokens -= 1;
    return handler(event, context);
  };
}
