import { join } from 'node:path';
import { getBooleanFromEnv, getNumberFromEnv, getStringFromEnv } from '../config';

type Env = Record<string, string | undefined>;

export interface SubscriptionsConfig {
  /** The SNS topic the notify stage publishes to; undefined disables the subscription routes (503). */
  topicArn: string | undefined;
  /** Lets tests subscribe http://localhost webhooks; never set in the cloud. */
  allowInsecureWebhooks: boolean;
  maxPerEndpoint: number;
  /** SQS subscriptions must be queues of this deployment's own account and region. */
  accountId: string;
  region: string;
  partition: string;
}

export interface ApiConfig {
  sqlitePath: string;
  subscriptions: SubscriptionsConfig;
  /** Upper bound on each Redis call, so a Redis outage degrades answers instead of hanging them. */
  redisTimeoutMs: number;
}

const TOPIC_ARN = /^arn:(aws[a-z-]*):sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256})$/;

/**
 * SQLITE_PATH (default $DATA_DIR/market.db), SIGNAL_TOPIC_ARN, ALLOW_INSECURE_WEBHOOKS,
 * MAX_SUBSCRIPTIONS_PER_ENDPOINT (default 5), AWS_ACCOUNT_ID / AWS_REGION (default:
 * taken from the topic ARN, which names the deployment's own account and region).
 */
export function loadApiConfig(env: Env = process.env): ApiConfig {
  const dataDir = getStringFromEnv('DATA_DIR', { env, default: '.local/data' });
  const topicArn = env.SIGNAL_TOPIC_ARN || undefined;
  const fromArn = topicArn ? TOPIC_ARN.exec(topicArn) : null;
  return {
    sqlitePath: getStringFromEnv('SQLITE_PATH', { env, default: join(dataDir, 'market.db') }),
    redisTimeoutMs: getNumberFromEnv('API_REDIS_TIMEOUT_MS', { env, default: 1500, integer: true, min: 50, max: 30_000 }),
    subscriptions: {
      topicArn,
      allowInsecureWebhooks: getBooleanFromEnv('ALLOW_INSECURE_WEBHOOKS', { env, default: false }),
      maxPerEndpoint: getNumberFromEnv('MAX_SUBSCRIPTIONS_PER_ENDPOINT', { env, default: 5, integer: true, min: 1, max: 1000 }),
      accountId: getStringFromEnv('AWS_ACCOUNT_ID', { env, default: fromArn?.[3] ?? '123456789012' }),
      region: getStringFromEnv('AWS_REGION', { env, default: fromArn?.[2] ?? 'us-east-1' }),
      partition: fromArn?.[1] ?? 'aws',
    },
  };
}
