/**
 * Lambda cost per million ticks from measured work. Prices are AWS's published
 * arm64 on-demand rates (us-east-1): compute per GB-second and requests per million.
 */

export const LAMBDA_ARM64_PRICE_PER_GB_SECOND = 0.0000133334;
export const LAMBDA_PRICE_PER_MILLION_REQUESTS = 0.2;

export interface HandlerWork {
  /** Memory the function is deployed with (MB); compute is billed per GB-second of it. */
  memoryMB: number;
  /** Ticks that entered the pipeline over the measured interval. */
  ticks: number;
  /** Seconds of work attributed to this handler over the interval (CPU or billed duration). */
  seconds: number;
  /** Lambda invocations the interval took. */
  requests: number;
}

export interface CostPerMillionTicks {
  gbSeconds: number;
  compute: number;
  requests: number;
  requestCost: number;
  total: number;
}

/** Scales the interval's work to one million ticks and prices it. */
export function costPerMillionTicks(w: HandlerWork): CostPerMillionTicks {
  if (!(w.ticks > 0)) throw new Error('costPerMillionTicks: ticks must be > 0');
  const scale = 1e6 / w.ticks;
  const gbSeconds = w.seconds * scale * (w.memoryMB / 1024);
  const requests = w.requests * scale;
  const compute = gbSeconds * LAMBDA_ARM64_PRICE_PER_GB_SECOND;
  const requestCost = (requests / 1e6) * LAMBDA_PRICE_PER_MILLION_REQUESTS;
  return { gbSeconds, compute, requests, requestCost, total: compute + requestCost };
}

/** Invocations a million ticks need when every batch is full: records the handler sees per tick, over its batch size. */
export function requestsAtFullBatches(recordsPerTick: number, batchSize: number): number {
  return Math.ceil((1e6 * recordsPerTick) / batchSize);
}
