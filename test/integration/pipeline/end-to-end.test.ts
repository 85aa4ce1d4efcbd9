/**
 * The main job (`local/main.ts`) as a user runs it, in a sandbox: ticks posted to the
 * HTTP API flow through every stage on real Kafka, Redis, SQLite and moto.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { startMainJob, type MainJob } from '../../../local/main-process';
import { createSandbox, type Sandbox } from '../../../local/sandbox';
import { referenceIndicators, relDiff } from '../../../shared/verify/reference-indicators';
import { subscribedQueue, swingSeries } from './helpers';
import { Consumer } from '@platformatic/kafka';
import { connectionSettings, createProducer, loadKafkaConfig, produceRecords } from '../../../shared/adapters/kafka';

let sandbox: Sandbox;
let main: MainJob | undefined;
let api = '';
let queue: Awaited<ReturnType<typeof subscribedQueue>>;
// Aligned to 5 minutes so that ticks 10..14 fill exactly one 5m bar.
const start = Math.floor((Date.now() - 3 * 3600_000) / 300_000) * 300_000;
const seriesA = swingSeries('E2EA', start, 120, 80);
const seriesB = swingSeries('E2EB', start, 120, 20);

async function getJson(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${api}${path}`);
  return { status: res.status, body: res.status === 304 ? null : await res.json() };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  sandbox = await createSandbox({ name: 'it-e2e' });
  queue = await subscribedQueue(sandbox.topicArn, `${sandbox.namespace.replace(/\W/g, '-')}buys`, { symbol: ['E2EA'], side: ['BUY'] });
  main = await startMainJob(sandbox.env);
  api = main.url;
  const body = [...seriesA, ...seriesB].sort((a, b) => a.timestamp - b.timestamp);
  const res = await fetch(`${api}/ticks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([...body, { symbol: 'bad symbol', close: 1 }]) });
  expect(res.status).toBe(202);
  const ack = (await res.json()) as { accepted: number; rejected: { index: number }[] };
  expect(ack.accepted).toBe(240);
  expect(ack.rejected.map((r) => r.index)).toEqual([240]);
}, 180_000);

afterAll(async () => {
  await main?.stop();
  await queue?.delete();
  await sandbox?.cleanup();
}, 60_000);

describe('the local pipeline, end to end', () => {
  it('serves indicators equal to the textbook definitions', async () => {
    const last = seriesA[seriesA.length - 1]!;
    const snap = await until('E2EA snapshot', async () => {
      const r = await getJson('/symbols/E2EA');
      return r.status === 200 && Date.parse(r.body.lastTimestamp) === last.timestamp ? r.body : undefined;
    });
    // The last tick opened a new bar: committed indicators are those of the bars before it.
    const ref = referenceIndicators(seriesA.slice(0, -1).map((r) => r.close));
    expect(snap.lastPrice).toBe(last.close);
    for (const k of ['ma', 'ema', 'rsi'] as const) expect(relDiff(snap.indicators[k], ref[k])).toBeLessThan(1e-9);
  }, 90_000);

  it('records BUY and SELL signals with deterministic ids', async () => {
    const items = await until('signals for E2EA', async () => {
      const r = await getJson('/signals?symbol=E2EA&limit=100');
      const sides = new Set((r.body?.items ?? []).map((s: { side: string }) => s.side));
      return sides.has('BUY') && sides.has('SELL') ? (r.body.items as { id: string; symbol: string; side: string }[]) : undefined;
    });
    for (const s of items) expect(s.id.startsWith('E2EA:')).toBe(true);
  }, 90_000);

  it('notifies a filtered SQS subscription with exactly the matching signals', async () => {
    const expected = await until('BUY signals of E2EA', async () => {
      const r = await getJson('/signals?symbol=E2EA&side=BUY&limit=100');
      return r.body?.items?.length ? (r.body.items as { id: string }[]).map((s) => s.id).sort() : undefined;
    });
    await new Promise((r) => setTimeout(r, 2000));
    const got = (await queue.drain(2000)).map((m) => m.id as string).sort();
    expect(got).toEqual(expected);
  }, 90_000);

  it('writes 1m and 5m bars to SQLite that match the ticks', async () => {
    const bucket = start + 10 * 60_000; // a full 5-minute bucket: ticks 10..14
    const ticks = seriesB.filter((t) => t.timestamp >= bucket && t.timestamp < bucket + 5 * 60_000);
    const bar = await until('5m bar', async () => {
      const r = await getJson(`/symbols/E2EB/bars?interval=5m&from=${new Date(bucket).toISOString()}&limit=1`);
      const b = r.body?.items?.[0];
      return b && Date.parse(b.time) === bucket && b.trades === 5 ? b : undefined;
    });
    expect(bar.open).toBe(ticks[0]!.open);
    expect(bar.close).toBe(ticks[4]!.close);
    expect(bar.high).toBe(Math.max(...ticks.map((t) => t.high)));
    expect(bar.low).toBe(Math.min(...ticks.map((t) => t.low)));
    expect(bar.volume).toBe(ticks.reduce((s, t) => s + t.volume, 0));
    const minutes = await getJson('/symbols/E2EB/bars?interval=1m&limit=1000');
    expect(minutes.body.items).toHaveLength(120);
    expect(existsSync(sandbox.env.SQLITE_PATH!)).toBe(true);
  }, 90_000);

  it('dead-letters garbage put straight onto the ticks topic, with reasons, and keeps the partition moving', async () => {
    const kafka = loadKafkaConfig(sandbox.env);
    const producer = createProducer(kafka);
    const t = Date.now() - 60_000;
    const good = { symbol: 'E2EG', timestamp: t, open: 5, high: 5, low: 5, close: 5, volume: 1 };
    try {
      await produceRecords(producer, [
        { topic: sandbox.topics.ticks, key: 'E2EG', value: 'not json at all' },
        { topic: sandbox.topics.ticks, key: 'E2EG', value: JSON.stringify({ symbol: 'E2EG', price: 'twelve' }) },
        { topic: sandbox.topics.ticks, key: 'E2EG', value: JSON.stringify(good) },
        // Far out of order: its bar closed long ago, so it may never change indicators.
        { topic: sandbox.topics.ticks, key: 'E2EG', value: JSON.stringify({ ...good, timestamp: t - 3 * 3600_000 }) },
        { topic: sandbox.topics.ticks, key: 'E2EG', value: JSON.stringify({ ...good, timestamp: t + 60_000, close: 6, high: 6 }) },
      ]);
    } finally {
      await producer.close();
    }
    await until('the good ticks behind the garbage', async () => {
      const r = await getJson('/symbols/E2EG');
      return r.status === 200 && r.body.lastPrice === 6 ? true : undefined;
    });
    const consumer = new Consumer({ ...connectionSettings(kafka), groupId: `${sandbox.namespace}dlq-reader`, autocommit: false });
    const reasons: string[] = [];
    const stream = await consumer.consume({ topics: [sandbox.topics.deadLetter], mode: 'earliest' });
    const timer = setTimeout(() => void stream.close(), 20_000);
    for await (const m of stream) {
      const h = Object.fromEntries([...m.headers].map(([k, v]) => [k.toString(), v.toString()]));
      if (h['dlq-function'] === 'process' && m.key?.toString() === 'E2EG') reasons.push(h['dlq-reason']!);
      if (reasons.length >= 3) break;
    }
    clearTimeout(timer);
    await stream.close();
    await consumer.close(true);
    expect(reasons[0]).toBe('invalid JSON');
    expect(reasons[1]).toMatch(/^invalid record: /);
    expect(reasons[2]).toMatch(/^late: /);
  }, 90_000);
});
