/**
 * The one Kafka client factory. Handlers, the local runtime, CLIs and tests all
 * build their clients here so authentication (plaintext locally, IAM or SCRAM on
 * MSK) and producer durability settings are decided in a single place.
 */
import { Admin, Consumer, Producer, ProduceAcks, type SASLOptions } from '@platformatic/kafka';
import { ConfigError, getStringFromEnv } from '../config';

export type KafkaAuth = 'none' | 'iam' | 'scram';
export const KAFKA_AUTH_MODES: readonly KafkaAuth[] = ['none', 'iam', 'scram'];

type Env = Record<string, string | undefined>;

export interface ScramCredentials {
  username: string;
  password: string;
}

export interface KafkaConfig {
  brokers: string[];
  auth: KafkaAuth;
  clientId: string;
  /** Region used to sign MSK IAM tokens. */
  region: string;
  /** Secrets Manager secret holding `{"username","password"}` for SCRAM (MSK requires the AmazonMSK_ prefix). */
  secretArn?: string;
  /** SCRAM credentials given directly (tests, self-managed clusters); wins over secretArn. */
  scramCredentials?: ScramCredentials;
}

/** Injection points for the parts that talk to AWS, so tests never need credentials. */
export interface KafkaAuthDeps {
  generateIamToken?: (region: string) => Promise<string>;
  resolveScramSecret?: (secretArn: string) => Promise<ScramCredentials>;
}

/**
 * Reads KAFKA_BROKERS (comma-separated host:port), KAFKA_AUTH (none|iam|scram),
 * KAFKA_CLIENT_ID, AWS_REGION, KAFKA_SECRET_ARN and, for SCRAM without Secrets
 * Manager, KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD.
 */
export function loadKafkaConfig(env: Env = process.env): KafkaConfig {
  const brokersRaw = getStringFromEnv('KAFKA_BROKERS', { env, default: 'localhost:9092' });
  const brokers = brokersRaw.split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (brokers.length === 0) throw new ConfigError('Environment variable KAFKA_BROKERS must list at least one host:port');
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) {
      throw new ConfigError(`Environment variable KAFKA_BROKERS has an invalid entry "${broker}" (expected host:port)`);
    }
  }
  const auth = getStringFromEnv('KAFKA_AUTH', { env, default: 'none' }).toLowerCase();
  if (!KAFKA_AUTH_MODES.includes(auth as KafkaAuth)) {
    throw new ConfigError(`Environment variable KAFKA_AUTH must be one of ${KAFKA_AUTH_MODES.join(', ')}, got "${auth}"`);
  }
  const cfg: KafkaConfig = {
    brokers,
    auth: auth as KafkaAuth,
    clientId: getStringFromEnv('KAFKA_CLIENT_ID', { env, default: getStringFromEnv('AWS_LAMBDA_FUNCTION_NAME', { env, default: 'stock-stream' }) }),
    region: getStringFromEnv('AWS_REGION', { env, default: getStringFromEnv('AWS_DEFAULT_REGION', { env, default: 'us-east-1' }) }),
  };
  const secretArn = env.KAFKA_SECRET_ARN;
  if (secretArn) cfg.secretArn = secretArn;
  const username = env.KAFKA_SASL_USERNAME;
  const password = env.KAFKA_SASL_PASSWORD;
  if (username && password) cfg.scramCredentials = { username, password };
  if (cfg.auth === 'scram' && !cfg.secretArn && !cfg.scramCredentials) {
    throw new ConfigError('KAFKA_AUTH=scram needs KAFKA_SECRET_ARN, or KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
  }
  return cfg;
}

async function defaultIamToken(region: string): Promise<string> {
  // Imported lazily: the signer pulls in the AWS credential chain, which local runs never need.
  const { generateAuthToken } = await import('aws-msk-iam-sasl-signer-js');
  const { token } = await generateAuthToken({ region });
  return token;
}

/**
 * Reads the SCRAM secret through the AWS Parameters and Secrets Lambda Extension
 * (a layer, HTTP on localhost:2773), which avoids bundling a Secrets Manager SDK
 * client into every function. Outside Lambda, pass `resolveScramSecret` or set
 * KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD instead.
 */
async function defaultScramSecret(secretArn: string): Promise<ScramCredentials> {
  const token = process.env.AWS_SESSION_TOKEN;
  if (!token) {
    throw new ConfigError('KAFKA_SECRET_ARN is set but AWS_SESSION_TOKEN is not: the secret can only be read through the Lambda secrets extension; set KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD instead');
  }
  const port = process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? '2773';
  const res = await fetch(`http://localhost:${port}/secretsmanager/get?secretId=${encodeURIComponent(secretArn)}`, {
    headers: { 'X-Aws-Parameters-Secrets-Token': token },
  });
  if (!res.ok) throw new Error(`Reading Kafka SCRAM secret ${secretArn} failed: HTTP ${res.status}`);
  const body = (await res.json()) as { SecretString?: string };
  return parseScramSecret(secretArn, body.SecretString);
}

export function parseScramSecret(secretArn: string, secretString: string | undefined): ScramCredentials {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString ?? '');
  } catch {
    throw new Error(`Kafka SCRAM secret ${secretArn} is not JSON`);
  }
  const { username, password } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
    throw new Error(`Kafka SCRAM secret ${secretArn} must hold non-empty "username" and "password" strings`);
  }
  return { username, password };
}

interface ConnectionSettings {
  clientId: string;
  bootstrapBrokers: string[];
  tls?: Record<string, never>;
  sasl?: SASLOptions;
}

/** Options shared by every client type; exported for tests and for clients built elsewhere. */
export function connectionSettings(cfg: KafkaConfig, deps: KafkaAuthDeps = {}, clientIdSuffix = ''): ConnectionSettings {
  const base = { clientId: `${cfg.clientId}${clientIdSuffix}`, bootstrapBrokers: cfg.brokers };
  switch (cfg.auth) {
    case 'none':
      return base;
    case 'iam': {
      const generate = deps.generateIamToken ?? defaultIamToken;
      // A provider, not a value: the library calls it on every (re)authentication, and MSK tokens expire after 15 minutes.
      return { ...base, tls: {}, sasl: { mechanism: 'OAUTHBEARER', token: () => generate(cfg.region) } };
    }
    case 'scram': {
      const resolve = deps.resolveScramSecret ?? defaultScramSecret;
      let cached: Promise<ScramCredentials> | undefined;
      const creds = (): Promise<ScramCredentials> => {
        if (cfg.scramCredentials) return Promise.resolve(cfg.scramCredentials);
        if (!cfg.secretArn) return Promise.reject(new ConfigError('KAFKA_AUTH=scram needs KAFKA_SECRET_ARN'));
        cached ??= resolve(cfg.secretArn).catch((err: unknown) => {
          cached = undefined;
          throw err;
        });
        return cached;
      };
      // MSK only offers SCRAM-SHA-512.
      return {
        ...base,
        tls: {},
        sasl: { mechanism: 'SCRAM-SHA-512', username: async () => (await creds()).username, password: async () => (await creds()).password },
      };
    }
  }
}

export type KafkaProducer = Producer;
export type KafkaConsumer = Consumer;
export type KafkaAdmin = Admin;

/**
 * Idempotent producer with acks=all: a retried send after a lost acknowledgement
 * cannot write a duplicate, so at-least-once delivery stays duplicate-free on the
 * produce side.
 */
export function createProducer(cfg: KafkaConfig, deps: KafkaAuthDeps = {}): KafkaProducer {
  return new Producer({
    ...connectionSettings(cfg, deps, '-producer'),
    idempotent: true,
    acks: ProduceAcks.ALL,
    // Topics are provisioned explicitly (auto-create is off on the broker), so a typo fails loudly.
    autocreateTopics: false,
    retries: 5,
  });
}

export function createAdmin(cfg: KafkaConfig, deps: KafkaAuthDeps = {}): KafkaAdmin {
  return new Admin({ ...connectionSettings(cfg, deps, '-admin') });
}

export interface ConsumerOptions {
  /** Defaults to 10 s: short enough that a killed local worker's partitions move on quickly. */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Longest the broker waits to fill a fetch; bounds the latency a batching window can add. */
  maxWaitTimeMs?: number;
  /**
   * Static membership (KIP-345): a restarted process with the same id takes its
   * predecessor's partitions at once instead of waiting out the session timeout.
   */
  groupInstanceId?: string;
  deps?: KafkaAuthDeps;
}

/**
 * Consumer in a group with autocommit off: callers commit explicitly once the
 * work for a record is done. Uses the classic group protocol, which both Kafka
 * and Redpanda implement.
 */
export function createConsumer(cfg: KafkaConfig, groupId: string, opts: ConsumerOptions = {}): KafkaConsumer {
  const sessionTimeout = opts.sessionTimeoutMs ?? 10_000;
  return new Consumer({
    ...connectionSettings(cfg, opts.deps, '-consumer'),
    groupId,
    groupProtocol: 'classic',
    ...(opts.groupInstanceId ? { groupInstanceId: opts.groupInstanceId } : {}),
    autocommit: false,
    sessionTimeout,
    heartbeatInterval: opts.heartbeatIntervalMs ?? Math.max(500, Math.floor(sessionTimeout / 5)),
    rebalanceTimeout: Math.max(sessionTimeout, 10_000),
    maxWaitTime: opts.maxWaitTimeMs ?? 200,
  });
}

export interface RecordToProduce {
  topic: string;
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string | Buffer>;
  partition?: number;
}

function toBuffer(v: string | Buffer): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** Sends records in one produce request per chunk; order within a partition follows array order. */
export async function produceRecords(producer: KafkaProducer, records: RecordToProduce[], chunkSize = 500): Promise<void> {
  for (let i = 0; i < records.length; i += chunkSize) {
    const messages = records.slice(i, i + chunkSize).map((r) => {
      const headers = new Map<Buffer, Buffer>();
      for (const [k, v] of Object.entries(r.headers ?? {})) headers.set(Buffer.from(k, 'utf8'), toBuffer(v));
      return {
        topic: r.topic,
        ...(r.key !== undefined && r.key !== null ? { key: toBuffer(r.key) } : {}),
        ...(r.value !== null ? { value: toBuffer(r.value) } : {}),
        ...(r.partition !== undefined ? { partition: r.partition } : {}),
        headers,
      };
    });
    await producer.send({ messages });
  }
}

/**
 * Header names on dead-lettered records. The event source mapping emulator and
 * any function that dead-letters a record itself use the same names, so one
 * consumer of market.dlq can read both.
 */
export const DLQ_HEADERS = {
  reason: 'dlq-reason',
  function: 'dlq-function',
  errorType: 'dlq-error-type',
  errorMessage: 'dlq-error-message',
  attempts: 'dlq-attempts',
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  originalTimestamp: 'dlq-original-timestamp',
  failedAt: 'dlq-failed-at',
} as const;
