import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { createSnsClient } from '../shared/adapters/sns';

/**
 * The local stand-ins for what CDK wires in the cloud: endpoints, credentials and
 * resource names. Applied to process.env before any handler module loads, so the
 * handlers read the same variables they read in Lambda.
 */
export const ROOT = resolve(import.meta.dirname, '..');
export const LOCAL_ACCOUNT = '123456789012';
export const SIGNAL_TOPIC_NAME = 'market-signals';

export function applyLocalEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const dataDir = resolve(env.DATA_DIR ?? join(ROOT, '.local', 'data'));
  mkdirSync(dataDir, { recursive: true });
  const region = env.AWS_REGION ?? 'us-east-1';
  const defaults: Record<string, string> = {
    DATA_DIR: dataDir,
    KAFKA_BROKERS: 'localhost:9092',
    KAFKA_AUTH: 'none',
    REDIS_URL: 'redis://localhost:6379',
    AWS_ENDPOINT_URL: 'http://localhost:4566',
    AWS_REGION: region,
    // moto accepts any credentials; these are its documented dummies, not secrets.
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ACCOUNT_ID: LOCAL_ACCOUNT,
    SIGNAL_TOPIC_ARN: `arn:aws:sns:${region}:${LOCAL_ACCOUNT}:${SIGNAL_TOPIC_NAME}`,
    SQLITE_PATH: join(dataDir, 'market.db'),
    PORT: '3000',
    // Local webhooks point at localhost; the cloud refuses them.
    ALLOW_INSECURE_WEBHOOKS: 'true',
    WEB_DIST_DIR: join(ROOT, 'web', 'dist'),
  };
  for (const [k, v] of Object.entries(defaults)) if (!env[k]) env[k] = v;
  return env;
}

/** Creates what CloudFormation would: the signals topic named by SIGNAL_TOPIC_ARN (CreateTopic is idempotent). */
export async function ensureLocalAwsResources(env: NodeJS.ProcessEnv = process.env): Promise<{ topicArn: string }> {
  const sns = createSnsClient();
  try {
    const name = env.SIGNAL_TOPIC_ARN?.split(':').pop() || SIGNAL_TOPIC_NAME;
    const res = await sns.send(new CreateTopicCommand({ Name: name }));
    return { topicArn: res.TopicArn! };
  } finally {
    sns.destroy();
  }
}
