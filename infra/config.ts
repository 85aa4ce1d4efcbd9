/**
 * The deployment's settings, read once from CDK context (cdk.json plus `-c key=value`).
 * `-c` values always arrive as strings, cdk.json values as JSON, so every field accepts
 * both; a bad value fails synthesis with one line per offending key.
 */
import { z } from 'zod';

export type Stage = 'dev' | 'prod';
export type KafkaMode = 'serverless' | 'provisioned' | 'external';
export type ExternalKafkaAuth = 'scram' | 'mtls';

export interface KafkaSettings {
  readonly mode: KafkaMode;
  readonly partitions: number;
  /** Event pollers per event source mapping (provisioned mode, which Kafka error handling needs). */
  readonly minPollers: number;
  readonly maxPollers: number;
  /** Provisioned MSK only. */
  readonly brokerInstanceType: string;
  readonly version: string;
  /** External Kafka only. */
  readonly bootstrapServers: readonly string[];
  readonly externalAuth: ExternalKafkaAuth;
  readonly secretArn?: string;
  readonly rootCaSecretArn?: string;
}

export type AuthSettings =
  | { readonly kind: 'cognito' }
  | { readonly kind: 'jwt'; readonly issuer: string; readonly audience: readonly string[] };

export interface PipelineSettings {
  readonly timeframe: string;
  readonly maPeriod: number;
  readonly emaPeriod: number;
  readonly rsiPeriod: number;
  readonly rulesJson?: string;
}

export interface InfraConfig {
  readonly stage: Stage;
  readonly project: string;
  /** `${project}-${stage}`: stack names, consumer groups and resource names start with it. */
  readonly prefix: string;
  readonly costCenter?: string;
  readonly nat: boolean;
  readonly kafka: KafkaSettings;
  readonly auth: AuthSettings;
  readonly signalEmail?: string;
  readonly alarmEmail?: string;
  readonly corsOrigins: readonly string[];
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetentionDays: number;
  readonly pipeline: PipelineSettings;
}

export class ContextError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid CDK context (cdk.json or -c key=value):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ContextError';
  }
}

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const STAGE_DEFAULTS: Record<Stage, { logRetentionDays: number; maxPollers: number; rateLimit: number; burstLimit: number }> = {
  dev: { logRetentionDays: 14, maxPollers: 2, rateLimit: 200, burstLimit: 400 },
  prod: { logRetentionDays: 90, maxPollers: 10, rateLimit: 2000, burstLimit: 4000 },
};

const blankToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);

const bool = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  return v;
}, z.boolean({ error: 'must be true or false' }));

const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : blankToUndefined(v)),
    z.number({ error: 'must be a number' }).int('must be an integer').min(min, `must be >= ${min}`).max(max, `must be <= ${max}`),
  );

const list = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const trimmed = v.trim();
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return v;
    }
  }
  return trimmed.split(',').map((s) => s.trim()).filter(Boolean);
}, z.array(z.string().min(1), { error: 'must be a comma-separated list or a JSON array of strings' }));

const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankToUndefined, schema.optional());

const email = z.email('must be an email address');
const secretArn = z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, 'must be a Secrets Manager secret ARN');

const fields = z.object({
  stage: z.enum(['dev', 'prod'], { error: 'must be dev or prod' }).default('dev'),
  project: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,19}$/, 'must be 2-20 lowercase letters, digits or dashes, starting with a letter')
    .default('market'),
  costCenter: optional(z.string().max(256)),
  nat: bool.default(false),
  kafka: z.enum(['serverless', 'provisioned', 'external'], { error: 'must be serverless, provisioned or external' }).default('serverless'),
  kafkaPartitions: int(1, 1000).default(3),
  kafkaMinPollers: int(1, 200).default(1),
  kafkaMaxPollers: optional(int(1, 2000)),
  kafkaBrokerInstanceType: z.string().regex(/^kafka\.[a-z0-9]+\.[a-z0-9]+$/, 'must look like kafka.m7g.large').default('kafka.m7g.large'),
  kafkaVersion: z.string().min(1).default('3.9.x'),
  kafkaBootstrapServers: optional(list),
  kafkaAuth: z.enum(['scram', 'mtls'], { error: 'must be scram or mtls' }).default('scram'),
  kafkaSecretArn: optional(secretArn),
  kafkaRootCaSecretArn: optional(secretArn),
  jwtIssuer: optional(z.url({ protocol: /^https$/, error: 'must be an https URL' })),
  jwtAudience: optional(list),
  signalEmail: optional(email),
  alarmEmail: optional(email),
  corsOrigins: list.default(['*']),
  throttleRateLimit: optional(int(1, 10000)),
  throttleBurstLimit: optional(int(1, 5000)),
  logRetentionDays: optional(
    int(1, 3653).refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
    }),
  ),
  timeframe: z.enum(['tick', '1m', '5m', '15m', '1h', '1d'], { error: 'must be tick, 1m, 5m, 15m, 1h or 1d' }).default('1m'),
  maPeriod: int(1, 1000).default(20),
  emaPeriod: int(1, 1000).default(20),
  rsiPeriod: int(1, 1000).default(14),
  signalRules: optional(
    z.string().refine((s) => {
      try {
        JSON.parse(s);
        return true;
      } catch {
        return false;
      }
    }, 'must be a JSON document'),
  ),
});

type Fields = z.infer<typeof fields>;
interface Problem {
  readonly key: string;
  readonly message: string;
}

/**
 * Rules that span keys. They run on whatever fields parsed, so one error lists every
 * problem at once; a rule whose inputs failed to parse stays silent (its key already reported).
 */
function crossFieldProblems(c: Partial<Fields>): Problem[] {
  const problems: Problem[] = [];
  const need = (key: string, why: string) => problems.push({ key, message: `required ${why}` });
  if (c.kafka === 'external') {
    if (!c.kafkaBootstrapServers?.length) need('kafkaBootstrapServers', 'when kafka=external');
    if (!c.kafkaSecretArn) need('kafkaSecretArn', `when kafka=external (the ${c.kafkaAuth === 'mtls' ? 'mTLS client certificate' : 'SASL/SCRAM credentials'} secret)`);
    // Functions live in private subnets; only a NAT gateway gets them to brokers outside the VPC.
    if (c.nat === false) problems.push({ key: 'nat', message: 'must be true when kafka=external (functions reach outside brokers through the NAT gateway)' });
  }
  for (const server of c.kafkaBootstrapServers ?? []) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(server)) problems.push({ key: 'kafkaBootstrapServers', message: `"${server}" is not host:port` });
  }
  if ('jwtIssuer' in c && 'jwtAudience' in c && (c.jwtIssuer === undefined) !== (c.jwtAudience === undefined || c.jwtAudience.length === 0)) {
    problems.push({ key: c.jwtIssuer ? 'jwtAudience' : 'jwtIssuer', message: 'jwtIssuer and jwtAudience go together (an external JWT issuer needs both)' });
  }
  if (c.kafkaMaxPollers !== undefined && c.kafkaMinPollers !== undefined && c.kafkaMaxPollers < c.kafkaMinPollers) {
    problems.push({ key: 'kafkaMaxPollers', message: `must be >= kafkaMinPollers (${c.kafkaMinPollers})` });
  }
  return problems;
}

export const KNOWN_CONTEXT_KEYS: readonly string[] = Object.keys(fields.shape);

/** Keys the CDK CLI and libraries put in context themselves; they are not ours to validate. */
const isForeignKey = (key: string) => key.includes(':') || key.startsWith('@') || key === 'acknowledged-issue-numbers';

export interface ParsedContext {
  readonly config: InfraConfig;
  /** Unknown keys, most likely typos of ours (`-c nats=true`). */
  readonly warnings: readonly string[];
}

export function parseInfraConfig(context: Record<string, unknown>): ParsedContext {
  const parsed: Partial<Record<keyof Fields, unknown>> = {};
  const problems: Problem[] = [];
  for (const [key, schema] of Object.entries(fields.shape) as [keyof Fields, z.ZodType][]) {
    const result = schema.safeParse(context[key]);
    if (result.success) parsed[key] = result.data;
    else problems.push(...result.error.issues.map((i) => ({ key, message: i.message })));
  }
  problems.push(...crossFieldProblems(parsed as Partial<Fields>));
  if (problems.length > 0) throw new ContextError(problems.map((p) => `${p.key}: ${p.message}${describeReceived(context, p.key)}`));
  const c = parsed as Fields;
  const defaults = STAGE_DEFAULTS[c.stage];
  const warnings = Object.keys(context)
    .filter((k) => !isForeignKey(k) && !KNOWN_CONTEXT_KEYS.includes(k))
    .map((k) => `unknown context key "${k}" ignored (known keys: ${KNOWN_CONTEXT_KEYS.join(', ')})`);
  const config: InfraConfig = {
    stage: c.stage,
    project: c.project,
    prefix: `${c.project}-${c.stage}`,
    costCenter: c.costCenter,
    nat: c.nat,
    kafka: {
      mode: c.kafka,
      partitions: c.kafkaPartitions,
      minPollers: c.kafkaMinPollers,
      maxPollers: c.kafkaMaxPollers ?? Math.max(defaults.maxPollers, c.kafkaMinPollers),
      brokerInstanceType: c.kafkaBrokerInstanceType,
      version: c.kafkaVersion,
      bootstrapServers: c.kafkaBootstrapServers ?? [],
      externalAuth: c.kafkaAuth,
      secretArn: c.kafkaSecretArn,
      rootCaSecretArn: c.kafkaRootCaSecretArn,
    },
    auth: c.jwtIssuer && c.jwtAudience ? { kind: 'jwt', issuer: c.jwtIssuer, audience: c.jwtAudience } : { kind: 'cognito' },
    signalEmail: c.signalEmail,
    alarmEmail: c.alarmEmail,
    corsOrigins: c.corsOrigins,
    throttle: { rateLimit: c.throttleRateLimit ?? defaults.rateLimit, burstLimit: c.throttleBurstLimit ?? defaults.burstLimit },
    logRetentionDays: c.logRetentionDays ?? defaults.logRetentionDays,
    pipeline: { timeframe: c.timeframe, maPeriod: c.maPeriod, emaPeriod: c.emaPeriod, rsiPeriod: c.rsiPeriod, rulesJson: c.signalRules },
  };
  return { config, warnings };
}

function describeReceived(context: Record<string, unknown>, key: string): string {
  return key in context ? ` (got ${JSON.stringify(context[key])})` : '';
}
