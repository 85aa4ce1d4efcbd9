/**
 * CloudFormation custom resource (through the CDK Provider framework) that creates the
 * pipeline's Kafka topics at deploy time: MSK has no CloudFormation resource for topics
 * on Serverless clusters. Create and Update converge the cluster on the desired topics
 * (create the missing ones, add partitions); Delete leaves topics alone, because the data
 * outlives the stack's resource and the cluster's own deletion removes them anyway.
 */
import { Admin } from '@platformatic/kafka';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { z } from 'zod';
import type { TopicSpec } from '../topics';

export interface TopicPlan {
  readonly create: readonly TopicSpec[];
  readonly grow: readonly { readonly name: string; readonly from: number; readonly to: number }[];
  readonly unchanged: readonly string[];
}

export class TopicPlanError extends Error {
  override name = 'TopicPlanError';
}

/** What to do to reach `desired` from the partition counts the cluster reports. */
export function planTopics(desired: readonly TopicSpec[], existing: ReadonlyMap<string, number>): TopicPlan {
  const create: TopicSpec[] = [];
  const grow: { name: string; from: number; to: number }[] = [];
  const unchanged: string[] = [];
  const shrink: string[] = [];
  for (const spec of desired) {
    const current = existing.get(spec.name);
    if (current === undefined) create.push(spec);
    else if (current < spec.partitions) grow.push({ name: spec.name, from: current, to: spec.partitions });
    else if (current > spec.partitions) shrink.push(`${spec.name} has ${current} partitions, ${spec.partitions} requested`);
    else unchanged.push(spec.name);
  }
  if (shrink.length > 0) {
    // Fewer partitions would remap keys to partitions, breaking per-symbol ordering; Kafka refuses it too.
    throw new TopicPlanError(`Kafka cannot remove partitions: ${shrink.join('; ')}. Set kafkaPartitions to at least the current count.`);
  }
  return { create, grow, unchanged };
}

/** The few admin operations the resource needs; the Lambda wires the real client, tests a fake. */
export interface TopicAdmin {
  partitionCounts(names: readonly string[]): Promise<Map<string, number>>;
  createTopic(spec: TopicSpec): Promise<void>;
  addPartitions(name: string, total: number): Promise<void>;
  close(): Promise<void>;
}

const topicSpecSchema = z.object({
  name: z.string().min(1),
  partitions: z.number().int().positive(),
  configs: z.record(z.string(), z.string()),
});

const propertiesSchema = z.object({
  BootstrapBrokers: z.string().regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be a comma-separated list of host:port'),
  Auth: z.enum(['iam', 'none']),
  Topics: z.string().transform((s, ctx) => {
    try {
      return z.array(topicSpecSchema).min(1).parse(JSON.parse(s)) as TopicSpec[];
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `must be a JSON array of {name, partitions, configs}: ${(error as Error).message}` });
      return z.NEVER;
    }
  }),
});

export type TopicResourceProperties = z.infer<typeof propertiesSchema>;

export function parseProperties(raw: unknown): TopicResourceProperties {
  const result = propertiesSchema.safeParse(raw);
  if (!result.success) {
    throw new Error(`Invalid Custom::KafkaTopics properties: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}

export interface TopicResourceResult {
  PhysicalResourceId: string;
  Data?: { Created: string; Grown: string; Unchanged: string };
}

const PHYSICAL_ID = 'kafka-topics';

export async function applyTopicResource(
  event: CloudFormationCustomResourceEvent,
  connect: (props: TopicResourceProperties) => TopicAdmin,
  log: (line: string) => void = (line) => console.log(line),
): Promise<TopicResourceResult> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const props = parseProperties(event.ResourceProperties);
  const admin = connect(props);
  try {
    const existing = await admin.partitionCounts(props.Topics.map((t) => t.name));
    const plan = planTopics(props.Topics, existing);
    for (const spec of plan.create) await admin.createTopic(spec);
    for (const g of plan.grow) await admin.addPartitions(g.name, g.to);
    log(JSON.stringify({ message: 'topics converged', ...summarize(plan) }));
    return { PhysicalResourceId: PHYSICAL_ID, Data: summarize(plan) };
  } finally {
    await admin.close();
  }
}

function summarize(plan: TopicPlan) {
  return {
    Created: plan.create.map((t) => t.name).join(','),
    Grown: plan.grow.map((g) => `${g.name}:${g.from}->${g.to}`).join(','),
    Unchanged: plan.unchanged.join(','),
  };
}

/** @platformatic/kafka Admin; MSK IAM auth is SASL OAUTHBEARER over TLS with a SigV4-signed token. */
export function platformaticTopicAdmin(props: TopicResourceProperties, region = process.env.AWS_REGION ?? ''): TopicAdmin {
  const iam = props.Auth === 'iam';
  if (iam && !region) throw new Error('AWS_REGION must be set to sign MSK IAM tokens');
  const admin = new Admin({
    clientId: 'create-topics',
    bootstrapBrokers: props.BootstrapBrokers.split(','),
    ...(iam ? { tls: {}, sasl: { mechanism: 'OAUTHBEARER' as const, token: async () => (await generateAuthToken({ region })).token } } : {}),
  });
  return {
    async partitionCounts(names) {
      const present = new Set(await admin.listTopics());
      const wanted = names.filter((n) => present.has(n));
      const counts = new Map<string, number>();
      if (wanted.length === 0) return counts;
      const metadata = await admin.metadata({ topics: wanted, forceUpdate: true });
      for (const name of wanted) {
        const topic = metadata.topics.get(name);
        if (topic) counts.set(name, topic.partitionsCount);
      }
      return counts;
    },
    async createTopic(spec) {
      await admin.createTopics({
        topics: [spec.name],
        partitions: spec.partitions,
        // -1: the cluster's default replication (MSK Serverless fixes it at 3).
        replicas: -1,
        configs: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
      });
    },
    async addPartitions(name, total) {
      await admin.createPartitions({ topics: [{ name, count: total }] });
    },
    async close() {
      await admin.close();
    },
  };
}

export const handler = (event: CloudFormationCustomResourceEvent): Promise<TopicResourceResult> =>
  applyTopicResource(event, (props) => platformaticTopicAdmin(props));
