import { SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, PurgeQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createSnsClient, createSqsClient } from '../shared/adapters/sns';
import { humanMessage } from '../shared/pipeline/notify';
import type { PublishedSignal } from '../shared/pipeline/signal';

/**
 * Subscribes an SQS queue to the signals topic and hands each notification to
 * `onSignal` — the local equivalent of a user's subscription, so what is printed
 * is what a subscriber really receives.
 */
export async function startSignalFeed(topicArn: string, onSignal: (line: string, side: string, signal: PublishedSignal) => void, queueName = 'local-signal-feed') {
  const sqs = createSqsClient();
  const sns = createSnsClient();
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: attrs.Attributes!.QueueArn! }));
  // Notifications left from an earlier run would be printed as if new.
  await sqs.send(new PurgeQueueCommand({ QueueUrl })).catch(() => undefined);
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        const msgs = res.Messages ?? [];
        for (const m of msgs) {
          const envelope = JSON.parse(m.Body ?? '{}') as { Message?: string };
          const signal = JSON.parse(envelope.Message ?? '{}') as PublishedSignal;
          onSignal(humanMessage(signal), signal.side, signal);
        }
        if (msgs.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      } catch {
        if (running) await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      sqs.destroy();
      sns.destroy();
    },
  };
}
