import type { HttpHandler } from './runtime/http-adapter';

/**
 * The stand-in for API Gateway stage throttling: a token bucket with a steady rate
 * (RATE_LIMIT_RPS, default 10,000, the account default) and a burst of half that.
 */
export function tokenBucket(rps = Number(process.env.RATE_LIMIT_RPS ?? 10_000), burst = Math.max(1, Math.floor(rps / 2))): () => boolean {
  let tokens = burst;
  let last = performance.now();
  return () => {
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * rps);
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

/** Answers 429 with Retry-After, as API Gateway does, when the shared bucket is empty. */
export function rateLimited(handler: HttpHandler, take: () => boolean): HttpHandler {
  return (event, context) =>
    take()
      ? handler(event, context)
      : { statusCode: 429, headers: { 'content-type': 'application/json', 'retry-after': '1' }, body: JSON.stringify({ error: { code: 'too_many_requests', message: 'Rate limit exceeded; retry later' } }) };
}
