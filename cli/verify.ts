/**
 * `npm run verify -- [--url URL] [--token TOKEN] [--timeout SECONDS]`
 * Checks a running deployment end to end (local by default) and exits non-zero if
 * any check fails.
 */
import { parseArgs } from 'node:util';
import { SetQueueAttributesCommand, CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { runVerify, type CheckResult, type VerifyQueue } from '../shared/verify/verify';

let opts;
try {
  opts = parseArgs({
    options: {
      url: { type: 'string', default: process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}` },
      token: { type: 'string', default: process.env.API_TOKEN },
      timeout: { type: 'string', default: '60' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (err) {
  console.error(`verify: ${(err as Error).message}\nUsage: npm run verify -- [--url URL] [--token TOKEN] [--timeout SECONDS]`);
  process.exit(2);
}
if (opts.help) {
  console.log('Usage: npm run verify -- [--url URL] [--token TOKEN] [--timeout SECONDS]\nChecks a running deployment end to end (default: the local one).');
  process.exit(0);
}
const url = opts.url!.replace(/\/+$/, '');
const timeoutS = Number(opts.timeout);
if (!/^https?:\/\//.test(url) || !(timeoutS > 0)) {
  console.error('verify: --url must be an http(s) URL and --timeout a positive number of seconds');
  process.exit(2);
}
const local = /^http:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(url);
if (local) {
  const { applyLocalEnv } = await import('../local/env');
  applyLocalEnv();
}
const { createSqsClient } = await import('../shared/adapters/sns');

async function createQueue(name: string): Promise<VerifyQueue> {
  const sqs = createSqsClient();
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { MessageRetentionPeriod: '600' } }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const arn = Attributes!.QueueArn!;
  const [, , , region, account] = arn.split(':');
  // In the cloud SNS may deliver only if the queue allows it: topics of this account only.
  await sqs.send(new SetQueueAttributesCommand({
    QueueUrl,
    Attributes: { Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: arn, Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:sns:${region}:${account}:*` } } }] }) },
  }));
  return {
    arn,
    async receive(waitMs) {
      const out: Record<string, unknown>[] = [];
      const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: Math.min(20, Math.max(0, Math.round(waitMs / 1000))) }));
      for (const m of res.Messages ?? []) {
        const env = JSON.parse(m.Body ?? '{}') as { Message?: string };
        try { out.push(JSON.parse(env.Message ?? m.Body ?? '{}') as Record<string, unknown>); } catch { out.push({ raw: m.Body }); }
      }
      if (res.Messages?.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: res.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      return out;
    },
    async delete() {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      sqs.destroy();
    },
  };
}

const tty = process.stdout.isTTY;
const mark = (ok: boolean) => (ok ? (tty ? '\x1b[32mPASS\x1b[0m' : 'PASS') : tty ? '\x1b[31mFAIL\x1b[0m' : 'FAIL');
console.log(`verify: checking ${url}${local ? ' (local stack)' : ''}`);
const results = await runVerify({
  url, token: opts.token, createQueue, timeoutMs: timeoutS * 1000,
  onCheck: (c: CheckResult) => console.log(`  ${mark(c.ok)} ${c.name} (${(c.ms / 1000).toFixed(2)} s)`),
});
const w = Math.max(...results.map((r) => r.name.length));
console.log(`\n${'check'.padEnd(w)}  result  time     detail`);
for (const r of results) console.log(`${r.name.padEnd(w)}  ${mark(r.ok)}    ${`${(r.ms / 1000).toFixed(2)}s`.padEnd(7)}  ${r.detail}`);
const failed = results.filter((r) => !r.ok).length;
console.log(`\nverify: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
