import { SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, DeleteMessageBatchCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import type { PriceRecord } from '../../../shared/schema/records';
import type { OutMessage, Publisher, StreamRecord } from '../../../shared/pipeline/ports';
import { createSnsClient, createSqsClient } from '../../../shared/adapters/sns';

/**
 * A price path that must fire signals: a slide deep enough for RSI to go below 30,
 * a rally that takes it above 70, then another slide; closes move 1–2% a bar.
 */
export function swingSeries(symbol: string, startMs: number, bars: number, base = 100): PriceRecord[] {
  const out: PriceRecord[] = [];
  let p = base;
  for (let i = 0; i < bars; i++) {
    const phase = Math.floor(i / 40) % 2;
    p *= phase === 0 ? 0.985 : 1.02;
    out.push({ symbol, timestamp: startMs + i * 60_000, open: p, high: p * 1.002, low: p * 0.998, close: p, volume: 1000 + i });
  }
  return out;
}

/** Records as the event source mapping would hand them over: keyed by symbol, one partition per symbol. */
export function asStreamRecords(topic: string, records: PriceRecord[], partitionOf: (symbol: string) => number, kafkaTimestamp: number): StreamRecord[] {
  const next = new Map<number, number>();
  return records.map((r) => {
    const partition = partitionOf(r.symbol);
    const offset = next.get(partition) ?? 0;
    next.set(partition, offset + 1);
    return { topic, partition, offset, timestamp: kafkaTimestamp, key: r.symbol, value: JSON.stringify(r), headers: {} };
  });
}

/** Publishes for real and keeps a copy of every message; `failAfterPublish` simulates dying right after the broker acknowledged. */
export class RecordingPublisher implements Publisher {
  readonly sent: OutMessage[] = [];
  failAfterPublish = false;
  constructor(private readonly inner: Publisher) {}
  async publish(messages: OutMessage[]): Promise<void> {
    await this.inner.publish(messages);
    this.sent.push(...messages);
    if (this.failAfterPublish) {
      this.failAfterPublish = false;
      throw new Error('simulated crash after publish');
    }
  }
  on(topic: string): OutMessage[] {
    return this.sent.filter((m) => m.topic === topic);
  }
}

export function toStreamRecords(messages: OutMessage[], kafkaTimestamp: number): StreamRecord[] {
  const next = new Map<string, number>();
  return messages.map((m) => {
    const partition = [...m.key].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7) % 3;
    const id = `${m.topic}-${partition}`;
    const offset = next.get(id) ?? 0;
    next.set(id, offset + 1);
    return { topic: m.topic, partition, offset, timestamp: kafkaTimestamp, key: m.key, value: m.value, headers: m.headers ?? {} };
  });
}

/** An SQS queue in moto subscribed to a topic with a filter policy, as a user's subscription would be. */
export async function subscribedQueue(topicArn: string, name: string, filterPolicy?: Record<string, unknown>) {
  const sqs = createSqsClient();
  const sns = createSnsClient();
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await sns.send(new SubscribeCommand({
    TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn!,
    Attributes: filterPolicy ? { FilterPolicy: JSON.stringify(filterPolicy) } : undefined,
  }));
  return {
    /** Drains the queue until `quietMs` passes with nothing new; returns the SNS message bodies. */
    async drain(quietMs = 1500): Promise<Record<string, unknown>[]> {
      const out: Record<string, unknown>[] = [];
      let quietSince = Date.now();
      while (Date.now() - quietSince < quietMs) {
        const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        const msgs = res.Messages ?? [];
        if (msgs.length === 0) { await new Promise((r) => setTimeout(r, 200)); continue; }
        quietSince = Date.now();
        for (const m of msgs) out.push(JSON.parse((JSON.parse(m.Body!) as { Message: string }).Message) as Record<string, unknown>);
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      }
      return out;
    },
    async delete() {
      await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
      sqs.destroy();
      sns.destroy();
    },
  };
}
