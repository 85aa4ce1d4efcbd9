/**
 * The stage modules against real Kafka, Redis and moto: redelivery, a crash between
 * publishing and saving state, and loss of the Redis cache must all end in exactly
 * the state, bars and signals of one clean pass.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { createSandbox, type Sandbox } from '../../../local/sandbox';
import { createProducer, loadKafkaConfig, type KafkaProducer } from '../../../shared/adapters/kafka';
import { changelogReader, kafkaPublisher } from '../../../shared/adapters/kafka-stream';
import { createSnsClient } from '../../../shared/adapters/sns';
import { keys } from '../../../shared/adapters/redis';
import { processTicks, type ProcessDeps } from '../../../shared/pipeline/process';
import { evaluateSignals } from '../../../shared/pipeline/signal';
import { notifySignals } from '../../../shared/pipeline/notify';
import { DEFAULT_RULES } from '../../../shared/engine/signals';
import { asStreamRecords, RecordingPublisher, subscribedQueue, swingSeries, toStreamRecords } from './helpers';

const engine = { timeframe: '1m' as const, periods: { ma: 20, ema: 20, rsi: 14 } };
const SYMBOLS = ['AAA', 'BBB.X'];
const now = Date.now();
const start = Math.floor((now - 4 * 3600_000) / 60_000) * 60_000;
const ticks = SYMBOLS.flatMap((s, i) => swingSeries(s, start, 200, 50 + 30 * i));
ticks.sort((a, b) => a.timestamp - b.timestamp);

interface Lane {
  sandbox: Sandbox;
  redis: Redis;
  producer: KafkaProducer;
  publisher: RecordingPublisher;
  deps: ProcessDeps;
}
const lanes: Lane[] = [];

async function lane(name: string): Promise<Lane> {
  const sandbox = await createSandbox({ name });
  const redis = new Redis(sandbox.env.REDIS_URL!);
  const kafka = loadKafkaConfig(sandbox.env);
  const producer = createProducer(kafka);
  const publisher = new RecordingPublisher(kafkaPublisher(producer));
  const deps: ProcessDeps = { redis, publisher, readChangelog: changelogReader(kafka, sandbox.topics.stateChangelog), engine, topics: sandbox.topics };
  const l = { sandbox, redis, producer, publisher, deps };
  lanes.push(l);
  return l;
}

async function engineStates(redis: Redis): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const s of SYMBOLS) out[s] = JSON.parse((await redis.get(keys.symbolState(s)))!);
  return out;
}

function uniqueBars(l: Lane): string[] {
  return [...new Set(l.publisher.on(l.sandbox.topics.indicators).map((m) => m.value))].sort();
}

const partitionOf = (s: string) => SYMBOLS.indexOf(s);
let clean: Lane;
let batches: ReturnType<typeof asStreamRecords>[];

beforeAll(async () => {
  clean = await lane('it-clean');
  const records = asStreamRecords(clean.sandbox.topics.ticks, ticks, partitionOf, now);
  batches = [records.slice(0, 150), records.slice(150, 290), records.slice(290)];
  for (const b of batches) await processTicks(b, clean.deps);
}, 60_000);

afterAll(async () => {
  for (const l of lanes) {
    l.redis.disconnect();
    await l.producer.close();
    await l.sandbox.cleanup();
  }
});

describe('process stage', () => {
  it('closes one bar per minute per symbol and keeps the open one', () => {
    // 200 one-minute ticks per symbol: 199 closed bars, the last one still open.
    expect(uniqueBars(clean)).toHaveLength(SYMBOLS.length * 199);
  });

  it('changes nothing when the same batch is delivered again', async () => {
    const before = await engineStates(clean.redis);
    const sentBefore = clean.publisher.on(clean.sandbox.topics.indicators).length;
    const again = await processTicks(batches[1]!, clean.deps);
    expect(again.duplicates).toBe(batches[1]!.length);
    expect(again.applied).toBe(0);
    expect(clean.publisher.on(clean.sandbox.topics.indicators).length).toBe(sentBefore);
    expect(await engineStates(clean.redis)).toEqual(before);
  });

  it('ends in the clean state after dying between publish and saving state', async () => {
    const l = await lane('it-crash');
    const records = asStreamRecords(l.sandbox.topics.ticks, ticks, partitionOf, now);
    const crashBatches = [records.slice(0, 150), records.slice(150, 290), records.slice(290)];
    await processTicks(crashBatches[0]!, l.deps);
    l.publisher.failAfterPublish = true;
    await expect(processTicks(crashBatches[1]!, l.deps)).rejects.toThrow('simulated crash');
    // The event source mapping redelivers the whole batch.
    await processTicks(crashBatches[1]!, l.deps);
    await processTicks(crashBatches[2]!, l.deps);
    expect(await engineStates(l.redis)).toEqual(await engineStates(clean.redis));
    expect(uniqueBars(l)).toEqual(uniqueBars(clean));
    // The replay re-published the crashed batch's bars: the duplicates downstream must absorb.
    expect(l.publisher.on(l.sandbox.topics.indicators).length).toBeGreaterThan(uniqueBars(l).length);
  }, 60_000);

  it('restores exact state from the changelog after the Redis cache is lost', async () => {
    const l = await lane('it-flush');
    const records = asStreamRecords(l.sandbox.topics.ticks, ticks, partitionOf, now);
    await processTicks(records.slice(0, 150), l.deps);
    await processTicks(records.slice(150, 290), l.deps);
    await l.redis.flushdb();
    await processTicks(records.slice(290), l.deps);
    expect(await engineStates(l.redis)).toEqual(await engineStates(clean.redis));
    expect(uniqueBars(l)).toEqual(uniqueBars(clean));
  }, 60_000);

  it('dead-letters garbage with a reason and still applies the good records around it', async () => {
    const l = await lane('it-garbage');
    const good = asStreamRecords(l.sandbox.topics.ticks, ticks.slice(0, 10), () => 0, now);
    const bad = [
      { ...good[0]!, offset: 100, value: 'not json' },
      { ...good[0]!, offset: 101, value: JSON.stringify({ symbol: 'lower', close: -1 }) },
    ];
    const r = await processTicks([...good.slice(0, 5), ...bad.map((b) => b), ...good.slice(5).map((g) => ({ ...g, offset: g.offset + 200 }))], l.deps);
    expect(r.applied).toBe(10);
    const dead = l.publisher.on(l.sandbox.topics.deadLetter);
    expect(dead).toHaveLength(2);
    expect(dead[0]!.headers!['dlq-reason']).toBe('invalid JSON');
    expect(dead[1]!.headers!['dlq-reason']).toMatch(/^invalid record: .*symbol/);
    expect(dead[1]!.headers!['dlq-original-offset']).toBe('101');
  }, 60_000);
});

describe('signal and notify stages', () => {
  it('fire the same signals once, and notify each once through an SNS filter policy', async () => {
    const l = clean;
    const indicatorRecords = toStreamRecords(l.publisher.on(l.sandbox.topics.indicators), now);
    const signalPublisher = new RecordingPublisher(kafkaPublisher(l.producer));
    const deps = { redis: l.redis, publisher: signalPublisher, readChangelog: changelogReader(loadKafkaConfig(l.sandbox.env), l.sandbox.topics.stateChangelog), rules: DEFAULT_RULES, topics: l.sandbox.topics };
    const first = await evaluateSignals(indicatorRecords, deps);
    const sides = new Set(first.signals.map((s) => s.side));
    expect(sides).toEqual(new Set(['BUY', 'SELL']));
    const again = await evaluateSignals(indicatorRecords, deps);
    expect(again.signals).toHaveLength(0);

    const buys = await subscribedQueue(l.sandbox.topicArn, `${l.sandbox.namespace.replace(/\W/g, '-')}buys`, { side: ['BUY'], symbol: ['AAA'] });
    const sns = createSnsClient();
    const notifyDeps = { sns, redis: l.redis, topicArn: l.sandbox.topicArn, deadLetters: signalPublisher, topics: l.sandbox.topics };
    const signalRecords = toStreamRecords(signalPublisher.on(l.sandbox.topics.signals), now);
    const n1 = await notifySignals(signalRecords, notifyDeps);
    const n2 = await notifySignals(signalRecords, notifyDeps);
    expect(n1.published).toHaveLength(first.signals.length);
    expect(n2.published).toHaveLength(0);
    expect(n2.alreadyNotified).toBe(first.signals.length);
    const received = await buys.drain();
    const expected = first.signals.filter((s) => s.side === 'BUY' && s.symbol === 'AAA').map((s) => s.id).sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(received.map((m) => m.id).sort()).toEqual(expected);
    await buys.delete();
    sns.destroy();
  }, 60_000);
});
