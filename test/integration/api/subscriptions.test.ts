import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTopicCommand, DeleteTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createRedis, type RedisClient } from '../../../shared/adapters/redis';
import { createApi } from '../../../shared/api/app';
import { loadApiConfig, type ApiConfig } from '../../../shared/api/config';
import { SubscriptionSchema } from '../../../shared/api/schemas';
import { bodyOf, httpEvent, MOTO_ACCOUNT, snsClient, sqsClient, TEST_REDIS_URL, uniqueName, uniqueSymbol } from './helpers';

const sns = snsClient();
const sqs = sqsClient();
let redis: RedisClient;
let topicArn: string;
let config: ApiConfig;
let api: ReturnType<typeof createApi>;
const queues: string[] = [];
const noStore = () => {
  throw new Error('not used by these routes');
};

beforeAll(async () => {
  topicArn = (await sns.send(new CreateTopicCommand({ Name: uniqueName('it-signals') }))).TopicArn!;
  config = loadApiConfig({ SIGNAL_TOPIC_ARN: topicArn, AWS_ACCOUNT_ID: MOTO_ACCOUNT, AWS_REGION: 'us-east-1', MAX_SUBSCRIPTIONS_PER_ENDPOINT: '2' });
  redis = createRedis({ url: TEST_REDIS_URL, cluster: false });
  api = createApi({ db: noStore, redis, sns, config });
});

afterAll(async () => {
  await sns.send(new DeleteTopicCommand({ TopicArn: topicArn }));
  for (const url of queues) await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
  await redis.quit();
  sns.destroy();
  sqs.destroy();
});

async function createQueue(): Promise<{ url: string; arn: string }> {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('it-q') }))).QueueUrl!;
  queues.push(url);
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  return { url, arn };
}

const post = (body: unknown, a = api) => a(httpEvent('POST', '/subscriptions', { json: body }));

/** What notify publishes: message attributes `symbol` and `side`, which filter policies select on. */
async function publish(symbol: string, side: 'BUY' | 'SELL'): Promise<void> {
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Message: JSON.stringify({ symbol, side }),
      MessageAttributes: { symbol: { DataType: 'String', StringValue: symbol }, side: { DataType: 'String', StringValue: side }, rule: { DataType: 'String', StringValue: 'rsi-threshold' } },
    }),
  );
}

async function drain(url: string): Promise<string[]> {
  const got: string[] = [];
  // moto delivers SNS → SQS synchronously within Publish, so one empty long-poll means the queue is drained.
  for (let empty = 0; empty < 1; ) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const msgs = r.Messages ?? [];
    if (msgs.length === 0) empty++;
    for (const m of msgs) {
      const envelope = JSON.parse(m.Body!) as { Message: string };
      const inner = JSON.parse(envelope.Message) as { symbol: string; side: string };
      got.push(`${inner.symbol} ${inner.side}`);
    }
  }
  return got.sort();
}

describe('subscriptions on SNS (moto)', () => {
  it('creates an SQS subscription whose filter policy really selects symbol and side', async () => {
    const q = await createQueue();
    const [A, B] = [uniqueSymbol(), uniqueSymbol()];
    const created = await post({ protocol: 'sqs', endpoint: q.arn, symbols: [A.toLowerCase()], sides: ['BUY'] });
    expect(created.statusCode).toBe(201);
    const sub = SubscriptionSchema.parse(bodyOf(created));
    expect(sub).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9-]+$/), protocol: 'sqs', endpoint: q.arn, symbols: [A], sides: ['BUY'], status: 'confirmed' });
    expect(created.headers.location).toBe(`/subscriptions/${sub.id}`);

    const got = await api(httpEvent('GET', `/subscriptions/${sub.id}`));
    expect(got.statusCode).toBe(200);
    expect(bodyOf(got)).toEqual(sub);
    expect(got.headers['cache-control']).toBe('private, no-cache');

    await publish(A, 'BUY');
    await publish(A, 'SELL');
    await publish(B, 'BUY');
    await publish(B, 'SELL');
    expect(await drain(q.url)).toEqual([`${A} BUY`]);

    expect((await api(httpEvent('DELETE', `/subscriptions/${sub.id}`))).statusCode).toBe(204);
    expect((await api(httpEvent('GET', `/subscriptions/${sub.id}`))).statusCode).toBe(404);
    expect((await api(httpEvent('DELETE', `/subscriptions/${sub.id}`))).statusCode).toBe(404);
    await publish(A, 'BUY');
    expect(await drain(q.url)).toEqual([]);
  });

  it('without symbols or sides, delivers every signal', async () => {
    const q = await createQueue();
    const created = await post({ protocol: 'sqs', endpoint: q.arn });
    expect(bodyOf(created)).toMatchObject({ symbols: null, sides: null });
    const A = uniqueSymbol();
    await publish(A, 'BUY');
    await publish(A, 'SELL');
    expect(await drain(q.url)).toEqual([`${A} BUY`, `${A} SELL`]);
    await api(httpEvent('DELETE', `/subscriptions/${bodyOf<{ id: string }>(created).id}`));
  });

  it.each([
    [{ protocol: 'email', endpoint: 'not-an-email' }, 'endpoint', /email address/],
    [{ protocol: 'sms', endpoint: '555-1234' }, 'endpoint', /E\.164/],
    [{ protocol: 'https', endpoint: 'http://hooks.example.com/x' }, 'endpoint', /must use https/],
    [{ protocol: 'https', endpoint: 'https://169.254.169.254/latest' }, 'endpoint', /private/],
    [{ protocol: 'sqs', endpoint: `arn:aws:sqs:us-east-1:999999999999:theirs` }, 'endpoint', /account 123456789012/],
    [{ protocol: 'sqs', endpoint: `arn:aws:sqs:eu-west-1:${MOTO_ACCOUNT}:elsewhere` }, 'endpoint', /region us-east-1/],
    [{ protocol: 'pigeon', endpoint: 'x' }, 'protocol', /one of email, sms, https, sqs/],
    [{ endpoint: 'a@example.com' }, 'protocol', /required/],
    [{ protocol: 'email', endpoint: 'a@example.com', symbols: [] }, 'symbols', /at least one/],
    [{ protocol: 'email', endpoint: 'a@example.com', symbols: ["X' OR 1=1"] }, 'symbols.0', /A-Z/],
    [{ protocol: 'email', endpoint: 'a@example.com', symbols: ['AAPL', 'AAPL'] }, 'symbols', /more than once/],
    [{ protocol: 'email', endpoint: 'a@example.com', sides: ['HOLD'] }, 'sides.0', /BUY/],
    [{ protocol: 'email', endpoint: 'a@example.com', symbols: Array.from({ length: 76 }, (_, i) => `S${i}`), sides: ['BUY', 'SELL'] }, 'symbols', /152 filter combinations/],
    [{ protocol: 'email', endpoint: 'a@example.com', admin: true }, 'admin', /unknown field/],
    [JSON.parse('{"protocol":"email","endpoint":"a@example.com","__proto__":{"admin":true}}') as unknown, '__proto__', /unknown field/],
    [[{ protocol: 'email', endpoint: 'a@example.com' }], '(root)', /object/],
  ])('refuses %j with a field error on %s', async (body, field, message) => {
    const r = await post(body);
    expect(r.statusCode).toBe(400);
    expect(bodyOf(r)).toMatchObject({ error: { code: 'invalid_request', fields: expect.arrayContaining([{ field, message: expect.stringMatching(message) }]) } });
  });

  it('refuses bad bodies with the right status', async () => {
    expect((await api(httpEvent('POST', '/subscriptions', { headers: { 'content-type': 'application/json' }, body: '{"protocol":' }))).statusCode).toBe(400);
    expect((await api(httpEvent('POST', '/subscriptions', { headers: { 'content-type': 'text/plain' }, body: '{}' }))).statusCode).toBe(415);
    expect((await api(httpEvent('POST', '/subscriptions', { headers: { 'content-type': 'application/json' }, body: '' }))).statusCode).toBe(400);
    expect((await post({ protocol: 'email', endpoint: `${'a'.repeat(20_000)}@example.com` })).statusCode).toBe(413);
  });

  it('caps subscriptions per endpoint, counting plus-addresses as one mailbox', async () => {
    const user = uniqueName('cap');
    const ids: string[] = [];
    for (const n of [1, 2]) {
      const r = await post({ protocol: 'email', endpoint: `${user}+${n}@example.com`, symbols: [uniqueSymbol()] });
      expect(r.statusCode).toBe(201);
      // Email subscriptions wait for the recipient's confirmation.
      expect(bodyOf(r)).toMatchObject({ protocol: 'email' });
      ids.push(bodyOf<{ id: string }>(r).id);
    }
    const third = await post({ protocol: 'email', endpoint: `${user}+3@example.com` });
    expect(third.statusCode).toBe(409);
    expect(bodyOf(third)).toMatchObject({ error: { code: 'subscription_limit', message: expect.stringContaining('limit is 2') } });
    expect((await api(httpEvent('DELETE', `/subscriptions/${ids[0]}`))).statusCode).toBe(204);
    const again = await post({ protocol: 'email', endpoint: `${user}+3@example.com` });
    expect(again.statusCode).toBe(201);
    ids.push(bodyOf<{ id: string }>(again).id);
    for (const id of ids.slice(1)) await api(httpEvent('DELETE', `/subscriptions/${id}`));
  });

  it('returns the existing subscription for an identical request and refuses a changed filter', async () => {
    const endpoint = `${uniqueName('same')}@example.com`;
    const first = await post({ protocol: 'email', endpoint, sides: ['SELL'] });
    expect(first.statusCode).toBe(201);
    const same = await post({ protocol: 'email', endpoint, sides: ['SELL'] });
    expect(same.statusCode).toBe(200);
    expect(bodyOf(same)).toEqual(bodyOf(first));
    const changed = await post({ protocol: 'email', endpoint, sides: ['BUY'] });
    expect(changed.statusCode).toBe(409);
    expect(bodyOf(changed)).toMatchObject({ error: { code: 'subscription_exists' } });
    await api(httpEvent('DELETE', `/subscriptions/${bodyOf<{ id: string }>(first).id}`));
  });

  it('accepts an http://localhost webhook only when ALLOW_INSECURE_WEBHOOKS is set', async () => {
    const received: string[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://localhost:${(server.address() as AddressInfo).port}/hook`;
      expect((await post({ protocol: 'https', endpoint: url })).statusCode).toBe(400);
      const local = createApi({ db: noStore, redis, sns, config: { ...config, subscriptions: { ...config.subscriptions, allowInsecureWebhooks: true } } });
      const r = await post({ protocol: 'https', endpoint: url, symbols: ['AAPL'] }, local);
      expect(r.statusCode).toBe(201);
      expect(bodyOf(r)).toMatchObject({ protocol: 'https', endpoint: url, symbols: ['AAPL'] });
      expect((await local(httpEvent('DELETE', `/subscriptions/${bodyOf<{ id: string }>(r).id}`))).statusCode).toBe(204);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('answers 400 for a malformed id and 404 for an unknown one', async () => {
    expect((await api(httpEvent('GET', '/subscriptions/not_valid!'))).statusCode).toBe(400);
    expect((await api(httpEvent('GET', '/subscriptions/00000000-0000-0000-0000-000000000000'))).statusCode).toBe(404);
    expect((await api(httpEvent('DELETE', '/subscriptions/00000000-0000-0000-0000-000000000000'))).statusCode).toBe(404);
  });

  it('answers 503 when SNS is unreachable or the topic is not configured', async () => {
    const down = new SNSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    try {
      const offline = createApi({ db: noStore, redis, sns: down, config });
      const r = await post({ protocol: 'email', endpoint: 'a@example.com' }, offline);
      expect(r.statusCode).toBe(503);
      expect(r.headers['retry-after']).toBe('1');
      expect((await offline(httpEvent('GET', '/subscriptions/00000000-0000-0000-0000-000000000000'))).statusCode).toBe(503);
    } finally {
      down.destroy();
    }
    const unconfigured = createApi({ db: noStore, redis, sns, config: { ...config, subscriptions: { ...config.subscriptions, topicArn: undefined } } });
    expect((await post({ protocol: 'email', endpoint: 'a@example.com' }, unconfigured)).statusCode).toBe(503);
  });
});
