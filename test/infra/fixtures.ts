/**
 * Synthesizes the real app (infra/market-app.ts) with cdk.json's context plus overrides,
 * offline and without bundling, once per variant per test file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from '@jest/globals';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseInfraConfig, type InfraConfig } from '../../infra/config';
import { buildMarketApp, type MarketStacks } from '../../infra/market-app';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const CDK_JSON_CONTEXT: Record<string, unknown> = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

/** The three shapes of deployment the tests cover. */
export const VARIANTS = {
  /** cdk.json as committed: dev, MSK Serverless, no NAT, Cognito. */
  dev: {},
  /** prod, provisioned MSK, NAT, email subscriptions, cost centre tag. */
  prod: { stage: 'prod', kafka: 'provisioned', nat: 'true', signalEmail: 'desk@example.com', alarmEmail: 'ops@example.com', costCenter: 'trading-42' },
  /** Bring-your-own Kafka over SASL/SCRAM and an external JWT issuer. */
  external: {
    kafka: 'external',
    nat: 'true',
    kafkaBootstrapServers: 'seed-0.redpanda.example.com:9092,seed-1.redpanda.example.com:9092',
    kafkaSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redpanda-scram-AbCdEf',
    jwtIssuer: 'https://auth.example.com/',
    jwtAudience: 'market-api',
  },
} as const satisfies Record<string, Record<string, string>>;
export type VariantName = keyof typeof VARIANTS;

export interface Synthesized {
  readonly app: App;
  readonly config: InfraConfig;
  readonly stacks: MarketStacks;
  readonly outdir: string;
  template(stack: keyof MarketStacks): Template;
  /** Every stack's template, keyed by stack name. */
  allTemplates(): Map<string, Template>;
}

const cache = new Map<string, Synthesized>();
const scratchDirs: string[] = [];

/** A temporary directory removed when the importing test file finishes. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

// Registered by every test file that imports the fixtures: cloud assemblies and bundles are large.
afterAll(() => {
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  cache.clear();
});

export function synth(variant: VariantName | Record<string, unknown>): Synthesized {
  const overrides = typeof variant === 'string' ? VARIANTS[variant] : variant;
  const key = JSON.stringify(overrides);
  const hit = cache.get(key);
  if (hit) return hit;
  const context = { ...CDK_JSON_CONTEXT, ...overrides };
  const outdir = scratchDir('market-infra-');
  const app = new App({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const { config } = parseInfraConfig(context);
  const stacks = buildMarketApp(app, config);
  app.synth();
  const templates = new Map<string, Template>();
  const template = (name: keyof MarketStacks) => {
    const stack: Stack | undefined = stacks[name];
    if (!stack) throw new Error(`variant ${key} has no ${name} stack`);
    let t = templates.get(stack.stackName);
    if (!t) {
      t = Template.fromStack(stack);
      templates.set(stack.stackName, t);
    }
    return t;
  };
  const result: Synthesized = {
    app,
    config,
    stacks,
    outdir,
    template,
    allTemplates: () => {
      for (const name of Object.keys(stacks) as (keyof MarketStacks)[]) if (stacks[name]) template(name);
      return templates;
    },
  };
  cache.set(key, result);
  return result;
}

type Json = Record<string, unknown>;

/** Resources of one type across a template, as [logicalId, resource]. */
export function resourcesOfType(template: Template, type: string): [string, Json][] {
  return Object.entries(template.findResources(type)) as [string, Json][];
}

export function props(resource: Json): Json {
  return (resource.Properties ?? {}) as Json;
}

/** The logical id of the Lambda function a StageFunction synthesized to. */
export function logicalIdOf(construct: { node: { defaultChild?: unknown } }, stack: Stack): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}
