/**
 * Delivery through a real HTTP server on localhost: retries on 429 / 5xx /
 * connection errors, splitting on 413, and the accounting that guarantees
 * every record ends up accepted or reported as rejected.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MarketGenerator, type PriceRecord } from '../../../shared/generator/generator';
import { runRecords } from '../../../shared/generator/runner';
import { CsvFileSink, DeliveryError, FatalSinkError, HttpSink, KafkaSink, type KafkaMessage } from '../../../shared/generator/sinks';
import { TypedRecordGenerator } from '../../../shared/generator/typed';
import { universeOfSize } from '../../../shared/generator/universe';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: unknown;
}
type Handler = (req: Seen, res: ServerResponse) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(handler: Handler): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const entry: Seen = { method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(text) };
      seen.push(entry);
      handler(entry, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const FAST_RETRY = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 5 };

function records(n: number): PriceRecord[] {
  return Array.from({ length: n }, (_, i) => ({ symbol: 'AAPL', timestamp: 1_700_000_000_000 + i, open: 10, high: 11, low: 9, close: 10.5, volume: i }));
}

describe('HttpSink', () => {
  it('posts JSON arrays to /ticks with the bearer token and maps rejected indexes', async () => {
    const { url, seen } = await serve((_req, res) => reply(res, 202, { accepted: 2, rejected: [{ index: 1, errors: ['high must be >= ...'] }] }));
    const sink = new HttpSink({ target: `${url}/`, token: 'tok', retry: FAST_RETRY });
    const result = await sink.send(records(3));
    expect(result).toEqual({ accepted: 2, rejected: [{ index: 1, errors: ['high must be >= ...'] }], retries: 0 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/ticks', authorization: 'Bearer tok' });
    expect(seen[0]?.body).toEqual(records(3));
  });

  it('retries 429 and 5xx, honouring Retry-After, then succeeds', async () => {
    const statuses = [429, 503, 500];
    const { url } = await serve((_req, res) => {
      const s = statuses.shift();
      if (s === 429) return reply(res, 429, { message: 'slow down' }, { 'retry-after': '0.004' });
      if (s) return reply(res, s, { message: 'boom' });
      reply(res, 202, { accepted: 5, rejected: [] });
    });
    const waits: number[] = [];
    const sink = new HttpSink({ target: url, retry: { maxRetries: 5, baseDelayMs: 1, maxDelayMs: 50 }, sleep: async (ms) => void waits.push(ms) });
    const result = await sink.send(records(5));
    expect(result).toEqual({ accepted: 5, rejected: [], retries: 3 });
    expect(waits).toHaveLength(3);
    expect(waits[0]).toBeGreaterThanOrEqual(4); // Retry-After: 0.004 s
  });

  it('gives up after the retry budget on connection errors, saying why', async () => {
    const { url } = await serve(() => {});
    await new Promise((resolve) => (servers.pop() as Server).close(resolve)); // nothing listens there now
    const sink = new HttpSink({ target: url, retry: FAST_RETRY, sleep: async () => {} });
    const err = await sink.send(records(2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).retries).toBe(3);
    expect((err as DeliveryError).message).toMatch(/gave up after 3 retries: connection error .*ECONNREFUSED/);
  });

  it('splits a batch the API finds too large (413) until the parts fit', async () => {
    const { url, seen } = await serve((req, res) => {
      const batch = req.body as PriceRecord[];
      if (batch.length > 2) return reply(res, 413, { message: 'payload too large' });
      const rejected = batch[0]?.volume === 4 ? [{ index: 0, errors: ['bad'] }] : [];
      reply(res, 202, { accepted: batch.length - rejected.length, rejected });
    });
    const sink = new HttpSink({ target: url, retry: FAST_RETRY });
    const result = await sink.send(records(7));
    // 7 → 4 + 3 → (2 + 2) + (2 + 1); record #4 (the 5th) is rejected by the API.
    expect(result.accepted + result.rejected.length).toBe(7);
    expect(result.rejected).toEqual([{ index: 4, errors: ['bad'] }]);
    const delivered = seen.filter((s) => (s.body as unknown[]).length <= 2).flatMap((s) => (s.body as PriceRecord[]).map((r) => r.volume));
    expect(delivered).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('400: every record is rejected, with the per-record errors or the one reason given', async () => {
    const bodies: unknown[] = [{ rejected: [{ index: 0, errors: ['a'] }, { index: 1, errors: ['b'] }] }, { error: 'body must be a JSON array' }];
    const { url } = await serve((_req, res) => reply(res, 400, bodies.shift()));
    const sink = new HttpSink({ target: url, retry: FAST_RETRY });
    expect((await sink.send(records(2))).rejected).toEqual([{ index: 0, errors: ['a'] }, { index: 1, errors: ['b'] }]);
    expect((await sink.send(records(2))).rejected).toEqual([
      { index: 0, errors: ['body must be a JSON array'] },
      { index: 1, errors: ['body must be a JSON array'] },
    ]);
  });

  it('401 is fatal and points at the token', async () => {
    const { url } = await serve((_req, res) => reply(res, 401, { message: 'missing bearer token' }));
    const err = await new HttpSink({ target: url, retry: FAST_RETRY }).send(records(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalSinkError);
    expect((err as Error).message).toMatch(/401 \(missing bearer token\): pass the API token with --token or API_TOKEN/);
  });

  it('typed records go one object per POST /ingest', async () => {
    const { url, seen } = await serve((req, res) => {
      const body = req.body as { data_type: string };
      if (body.data_type === 'market_data') return reply(res, 400, { error: 'market_cap must be > 0' });
      reply(res, 200, { ok: true });
    });
    const gen = new TypedRecordGenerator(1, universeOfSize(2));
    const typed = Array.from({ length: 30 }, (_, i) => gen.next(1_700_000_000_000 + i, () => 100));
    const result = await new HttpSink({ target: url, retry: FAST_RETRY }).sendTyped(typed);
    expect(seen).toHaveLength(30);
    expect(seen.every((s) => s.url === '/ingest' && !Array.isArray(s.body))).toBe(true);
    const marketData = typed.filter((t) => t.data_type === 'market_data').length;
    expect(result.accepted).toBe(30 - marketData);
    expect(result.rejected.map((r) => r.errors)).toEqual(Array(marketData).fill(['market_cap must be > 0']));
  });
});

describe('runRecords accounting: nothing is lost', () => {
  const generator = (count: number) =>
    new MarketGenerator({ seed: 1, scenario: 'mixed', symbols: universeOfSize(5), timeframeMs: 60_000, tickRate: 100, startMs: 0, clock: 'continuous', count });

  it('every record is accepted or reported as rejected, through throttling and partial rejections', async () => {
    let calls = 0;
    const { url, seen } = await serve((req, res) => {
      calls++;
      if (calls % 3 === 0) return reply(res, 429, { message: 'throttled' });
      const batch = req.body as PriceRecord[];
      // The API refuses AAPL in this test, record by record.
      const rejected = batch.flatMap((r, index) => (r.symbol === 'AAPL' ? [{ index, errors: ['AAPL is halted'] }] : []));
      reply(res, 202, { accepted: batch.length - rejected.length, rejected });
    });
    const sink = new HttpSink({ target: url, retry: FAST_RETRY, sleep: async () => {} });
    const summary = await runRecords(generator(1000), { batchSize: 64, schedule: () => undefined }, { sink, now: Date.now, sleep: async () => {} });
    expect(summary.sent).toBe(1000);
    expect(summary.accepted + summary.rejected).toBe(1000);
    expect(summary.rejected).toBe(200); // AAPL is one symbol in five
    expect(summary.retries).toBeGreaterThan(0);
    expect(summary.rejectionSamples[0]).toContain('AAPL is halted');
    expect(summary.stopped).toBeUndefined();
    const delivered = seen.filter((_, i) => (i + 1) % 3 !== 0).reduce((n, s) => n + (s.body as unknown[]).length, 0);
    expect(delivered).toBe(1000);
  });

  it('when retries run out, the batch in flight is reported rejected with the reason and the run stops', async () => {
    const { url } = await serve((_req, res) => reply(res, 503, { message: 'down for maintenance' }));
    const sink = new HttpSink({ target: url, retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 1 }, sleep: async () => {} });
    const summary = await runRecords(generator(1000), { batchSize: 100, schedule: () => undefined }, { sink, now: Date.now, sleep: async () => {} });
    expect(summary).toMatchObject({ sent: 100, accepted: 0, rejected: 100, retries: 2, stopped: { fatal: true } });
    expect(summary.stopped?.reason).toMatch(/gave up after 2 retries: HTTP 503/);
  });

  it('paces records by their schedule, sending what is due before it waits', async () => {
    let clock = 1_000_000;
    const sends: Array<{ at: number; n: number }> = [];
    const sink = {
      name: 'memory',
      send: async (batch: readonly PriceRecord[]) => {
        sends.push({ at: clock, n: batch.length });
        return { accepted: batch.length, rejected: [], retries: 0 };
      },
      close: async () => {},
    };
    // 20 records, one due every 50 ms of a fake clock that only moves when the runner sleeps.
    const summary = await runRecords(generator(20), { batchSize: 500, schedule: (_r, i) => 1_000_000 + i * 50 }, {
      sink,
      now: () => clock,
      sleep: async (ms) => void (clock += ms),
    });
    expect(summary.sent).toBe(20);
    expect(clock).toBe(1_000_000 + 19 * 50);
    // Each record waited for its slot, and nothing was held back while waiting.
    expect(sends.map((s) => s.n)).toEqual(Array(20).fill(1));
    expect(sends.map((s) => s.at)).toEqual(Array.from({ length: 20 }, (_, i) => 1_000_000 + i * 50));
  });
});

describe('KafkaSink', () => {
  it('keys by symbol, values are canonical JSON, retries a failing broker', async () => {
    let failures = 2;
    const produced: KafkaMessage[][] = [];
    const sink = new KafkaSink({
      topic: 'market.ticks',
      produce: async (messages) => {
        if (failures-- > 0) throw new Error('NOT_LEADER_OR_FOLLOWER');
        produced.push(messages);
      },
      close: async () => {},
      retry: FAST_RETRY,
      sleep: async () => {},
    });
    const batch = records(3);
    expect(await sink.send(batch)).toEqual({ accepted: 3, rejected: [], retries: 2 });
    expect(produced).toEqual([batch.map((r) => ({ topic: 'market.ticks', key: 'AAPL', value: JSON.stringify(r) }))]);
  });

  it('reports the broker error once retries run out', async () => {
    const sink = new KafkaSink({ topic: 't', produce: async () => Promise.reject(new Error('broker down')), close: async () => {}, retry: FAST_RETRY, sleep: async () => {} });
    await expect(sink.send(records(1))).rejects.toThrow('gave up after 3 retries: broker down');
  });
});

describe('CsvFileSink', () => {
  it('writes the header and one line per record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'csv-sink-'));
    try {
      const path = join(dir, 'x.csv');
      const sink = new CsvFileSink(path);
      await sink.send(records(2));
      await sink.close();
      expect(readFileSync(path, 'utf8')).toBe('symbol,timestamp,open,high,low,close,volume\nAAPL,1700000000000,10,11,9,10.5,0\nAAPL,1700000000001,10,11,9,10.5,1\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
