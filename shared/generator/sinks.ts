/**
 * Where generated records go. The runner only knows RecordSink; the CLI picks
 * the HTTP ingest API, a CSV file, or Kafka directly.
 *
 * Delivery contract: every record handed to send() comes back either counted
 * as accepted or listed as rejected with its reasons. Transient trouble (429,
 * 5xx, connection errors, broker errors) is retried with capped exponential
 * backoff and full jitter; when retries run out the sink throws a
 * DeliveryError carrying the undelivered records' reason, and the runner
 * reports them as rejected — nothing disappears silently.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { CSV_HEADER, toCsvLine } from './csv';
import type { PriceRecord } from './generator';
import { Rng } from './random';
import type { TypedRecord } from './typed';

export interface RejectedRecord {
  /** Position in the array passed to send(). */
  index: number;
  errors: string[];
}

export interface SendResult {
  accepted: number;
  rejected: RejectedRecord[];
  /** Retries spent on this call (429 / 5xx / connection errors / split on 413). */
  retries: number;
}

export interface RecordSink {
  readonly name: string;
  send(records: readonly PriceRecord[]): Promise<SendResult>;
  close(): Promise<void>;
}

export interface TypedRecordSink {
  sendTyped(records: readonly TypedRecord[]): Promise<SendResult>;
  close(): Promise<void>;
}

/** Retries are exhausted: the records of this call were not delivered. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retries: number,
    /** Records of the same call that were accepted before it failed (one-by-one sends). */
    readonly acceptedBefore = 0,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** The target refuses in a way retrying cannot fix (bad token, wrong URL, unsupported media type). */
export class FatalSinkError extends Error {
  constructor(
    message: string,
    readonly acceptedBefore = 0,
  ) {
    super(message);
    this.name = 'FatalSinkError';
  }
}

export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 8, baseDelayMs: 200, maxDelayMs: 10_000 };

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Full-jitter backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"), at least what Retry-After asks. */
function backoffMs(policy: RetryPolicy, attempt: number, rng: Rng, retryAfterMs?: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = rng.uniform() * cap;
  return retryAfterMs !== undefined ? Math.max(jittered, Math.min(retryAfterMs, policy.maxDelayMs)) : jittered;
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

export interface HttpSinkOptions {
  /** Base URL of the ingest API, e.g. http://localhost:3000. */
  target: string;
  token?: string;
  retry?: RetryPolicy;
  requestTimeoutMs?: number;
  /** Injected for tests and for the runner's abort handling; defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

type Attempt<T> = { done: true; value: T } | { done: false; reason: string; retryAfterMs?: number };

export class HttpSink implements RecordSink, TypedRecordSink {
  readonly name: string;
  private readonly ticksUrl: string;
  private readonly ingestUrl: string;
  private readonly headers: Record<string, string>;
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly jitter = new Rng(0x6a17, 4);

  constructor(opts: HttpSinkOptions) {
    const base = opts.target.replace(/\/+$/, '');
    this.ticksUrl = `${base}/ticks`;
    this.ingestUrl = `${base}/ingest`;
    this.name = `POST ${this.ticksUrl}`;
    this.headers = { 'content-type': 'application/json' };
    if (opts.token) this.headers.authorization = `Bearer ${opts.token}`;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.sleep = opts.sleep ?? realSleep;
    this.fetchImpl = opts.fetch ?? fetch;
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  async send(records: readonly PriceRecord[]): Promise<SendResult> {
    if (records.length === 0) return { accepted: 0, rejected: [], retries: 0 };
    const result = await this.withRetries(() => this.postTicks(records));
    if (result.value.tooLarge) {
      if (records.length === 1) {
        return { accepted: 0, rejected: [{ index: 0, errors: ['record too large for the API (413)'] }], retries: result.retries };
      }
      // 413: the batch is over the API's byte limit; halve it until the halves fit.
      const mid = Math.ceil(records.length / 2);
      const left = await this.send(records.slice(0, mid));
      let right: SendResult;
      try {
        right = await this.send(records.slice(mid));
      } catch (err) {
        // Keep the first half's acceptances on the books when the second half cannot be delivered.
        if (err instanceof DeliveryError) throw new DeliveryError(err.message, err.retries, left.accepted + err.acceptedBefore);
        if (err instanceof FatalSinkError) throw new FatalSinkError(err.message, left.accepted + err.acceptedBefore);
        throw err;
      }
      return {
        accepted: left.accepted + right.accepted,
        rejected: [...left.rejected, ...right.rejected.map((r) => ({ index: r.index + mid, errors: r.errors }))],
        retries: result.retries + 1 + left.retries + right.retries,
      };
    }
    return { ...result.value.result, retries: result.retries };
  }

  /** The seed's typed records: one object per `POST /ingest`. */
  async sendTyped(records: readonly TypedRecord[]): Promise<SendResult> {
    const out: SendResult = { accepted: 0, rejected: [], retries: 0 };
    for (let i = 0; i < records.length; i++) {
      let attempt: { value: true | string[]; retries: number };
      try {
        attempt = await this.withRetries(() => this.postIngest(records[i] as TypedRecord));
      } catch (err) {
        if (err instanceof DeliveryError) throw new DeliveryError(err.message, out.retries + err.retries, out.accepted);
        if (err instanceof FatalSinkError) throw new FatalSinkError(err.message, out.accepted);
        throw err;
      }
      out.retries += attempt.retries;
      if (attempt.value === true) out.accepted++;
      else out.rejected.push({ index: i, errors: attempt.value });
    }
    return out;
  }

  async close(): Promise<void> {}

  private async withRetries<T>(attempt: () => Promise<Attempt<T>>): Promise<{ value: T; retries: number }> {
    for (let retries = 0; ; retries++) {
      const outcome = await attempt();
      if (outcome.done) return { value: outcome.value, retries };
      if (retries >= this.retry.maxRetries) {
        throw new DeliveryError(`gave up after ${retries} retries: ${outcome.reason}`, retries);
      }
      await this.sleep(backoffMs(this.retry, retries, this.jitter, outcome.retryAfterMs));
    }
  }

  private async request(url: string, body: string): Promise<Response | { error: string }> {
    try {
      return await this.fetchImpl(url, { method: 'POST', headers: this.headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return { error: `${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}` };
    }
  }

  private async postTicks(records: readonly PriceRecord[]): Promise<Attempt<{ tooLarge: boolean; result: Omit<SendResult, 'retries'> }>> {
    const res = await this.request(this.ticksUrl, JSON.stringify(records));
    if ('error' in res) return { done: false, reason: `connection error (${res.error})` };
    const text = await res.text();
    const transient = this.transient(res, text);
    if (transient) return transient;
    if (res.status === 413) return { done: true, value: { tooLarge: true, result: { accepted: 0, rejected: [] } } };
    const body = parseJson(text);
    if (res.status === 200 || res.status === 202) {
      const rejected = readRejected(body, records.length);
      const accepted = typeof body?.accepted === 'number' ? body.accepted : records.length - rejected.length;
      return { done: true, value: { tooLarge: false, result: { accepted, rejected } } };
    }
    if (res.status === 400) {
      // All records invalid: the API lists them, or gives one reason for the whole batch.
      const listed = readRejected(body, records.length);
      const reason = describeError(body, text, 400);
      const rejected = listed.length === records.length ? listed : records.map((_, index) => ({ index, errors: [reason] }));
      return { done: true, value: { tooLarge: false, result: { accepted: 0, rejected } } };
    }
    throw this.fatal(res, text);
  }

  private async postIngest(record: TypedRecord): Promise<Attempt<true | string[]>> {
    const res = await this.request(this.ingestUrl, JSON.stringify(record));
    if ('error' in res) return { done: false, reason: `connection error (${res.error})` };
    const text = await res.text();
    const transient = this.transient(res, text);
    if (transient) return transient;
    if (res.status >= 200 && res.status < 300) return { done: true, value: true };
    if (res.status === 400 || res.status === 422 || res.status === 413) {
      return { done: true, value: [describeError(parseJson(text), text, res.status)] };
    }
    throw this.fatal(res, text);
  }

  private transient(res: Response, text: string): Attempt<never> | undefined {
    if (res.status === 429 || res.status >= 500) {
      return { done: false, reason: `HTTP ${res.status} ${text.slice(0, 200)}`.trim(), retryAfterMs: retryAfter(res.headers.get('retry-after')) };
    }
    return undefined;
  }

  private fatal(res: Response, text: string): FatalSinkError {
    const detail = describeError(parseJson(text), text, res.status);
    if (res.status === 401 || res.status === 403) {
      return new FatalSinkError(`${res.url || this.ticksUrl} answered ${res.status} (${detail}): pass the API token with --token or API_TOKEN`);
    }
    return new FatalSinkError(`${res.url || this.ticksUrl} answered ${res.status}: ${detail}`);
  }
}

type JsonBody = { accepted?: unknown; rejected?: unknown; error?: unknown; message?: unknown; errors?: unknown } | undefined;

function parseJson(text: string): JsonBody {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' ? (v as JsonBody) : undefined;
  } catch {
    return undefined;
  }
}

function readRejected(body: JsonBody, count: number): RejectedRecord[] {
  if (!Array.isArray(body?.rejected)) return [];
  const out: RejectedRecord[] = [];
  for (const item of body.rejected as unknown[]) {
    const r = item as { index?: unknown; errors?: unknown };
    if (typeof r?.index !== 'number' || r.index < 0 || r.index >= count) continue;
    const errors = Array.isArray(r.errors) ? r.errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))) : [String(r.errors ?? 'rejected')];
    out.push({ index: r.index, errors });
  }
  return out;
}

function describeError(body: JsonBody, text: string, status: number): string {
  for (const v of [body?.error, body?.message]) if (typeof v === 'string' && v) return v;
  if (Array.isArray(body?.errors)) return (body.errors as unknown[]).map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('; ');
  return text.trim().slice(0, 300) || `HTTP ${status}`;
}

/** `--out FILE.csv`: synchronous writes are the fastest path here and keep ordering trivial. */
export class CsvFileSink implements RecordSink {
  readonly name: string;
  private readonly fd: number;
  constructor(readonly path: string) {
    this.name = path;
    this.fd = openSync(path, 'w');
    writeSync(this.fd, CSV_HEADER);
  }
  async send(records: readonly PriceRecord[]): Promise<SendResult> {
    let chunk = '';
    for (let i = 0; i < records.length; i++) chunk += toCsvLine(records[i] as PriceRecord);
    writeSync(this.fd, chunk);
    return { accepted: records.length, rejected: [], retries: 0 };
  }
  async close(): Promise<void> {
    closeSync(this.fd);
  }
}

/** Typed records next to an --out file, one JSON object per line, as they would be posted. */
export class JsonlFileSink implements TypedRecordSink {
  private readonly fd: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }
  async sendTyped(records: readonly TypedRecord[]): Promise<SendResult> {
    let chunk = '';
    for (const r of records) chunk += `${JSON.stringify(r)}\n`;
    if (chunk) writeSync(this.fd, chunk);
    return { accepted: records.length, rejected: [], retries: 0 };
  }
  async close(): Promise<void> {
    closeSync(this.fd);
  }
}

export interface KafkaMessage {
  topic: string;
  key: string;
  value: string;
}

export interface KafkaSinkOptions {
  /** Resolves once the broker acknowledged every message (e.g. produceRecords of shared/adapters/kafka). */
  produce: (messages: KafkaMessage[]) => Promise<void>;
  close: () => Promise<void>;
  topic: string;
  retry?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * `--direct`: straight to the ticks topic, keyed by symbol so each symbol stays
 * in order on one partition. The value is the canonical record as JSON, as the
 * ingest API would have produced it; validation then happens in the stream.
 */
export class KafkaSink implements RecordSink {
  readonly name: string;
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly jitter = new Rng(0x6a17, 5);
  constructor(private readonly opts: KafkaSinkOptions) {
    this.name = `kafka topic ${opts.topic}`;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.sleep = opts.sleep ?? realSleep;
  }
  async send(records: readonly PriceRecord[]): Promise<SendResult> {
    if (records.length === 0) return { accepted: 0, rejected: [], retries: 0 };
    const messages = records.map((r) => ({ topic: this.opts.topic, key: r.symbol, value: JSON.stringify(r) }));
    for (let retries = 0; ; retries++) {
      try {
        await this.opts.produce(messages);
        return { accepted: records.length, rejected: [], retries };
      } catch (err) {
        if (retries >= this.retry.maxRetries) throw new DeliveryError(`gave up after ${retries} retries: ${(err as Error).message}`, retries);
        await this.sleep(backoffMs(this.retry, retries, this.jitter));
      }
    }
  }
  async close(): Promise<void> {
    await this.opts.close();
  }
}
