import { describe, expect, it } from '@jest/globals';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TOPICS } from '../../shared/config';
import type { FunctionName } from '../../infra/stacks/functions-stack';
import { type VariantName, VARIANTS, logicalIdOf, props, resourcesOfType, synth } from './fixtures';
import { actionsOf, functionStatements, identityStatements, kafkaGrants, resourcePolicyStatements, resourcesOf } from './policies';

const VARIANT_NAMES = Object.keys(VARIANTS) as VariantName[];

const statementsOf = (variant: VariantName, fn: FunctionName) => {
  const s = synth(variant);
  return functionStatements(s.template('functions'), logicalIdOf(s.stacks.functions.functions[fn], s.stacks.functions));
};

describe('IAM least privilege', () => {
  it.each(VARIANT_NAMES)('%s: no identity policy allows a wildcard action', (variant) => {
    const offending = [...synth(variant).allTemplates()].flatMap(([stack, t]) =>
      identityStatements(t)
        .filter(({ statement }) => statement.Effect === 'Allow' && actionsOf(statement).some((a) => a.includes('*')))
        .map(({ owner, statement }) => `${stack}/${owner}: ${actionsOf(statement).join(',')}`),
    );
    expect(offending).toEqual([]);
  });

  it.each(VARIANT_NAMES)('%s: no identity policy grants on every resource ("*")', (variant) => {
    const offending = [...synth(variant).allTemplates()].flatMap(([stack, t]) =>
      identityStatements(t)
        .filter(({ statement }) => statement.Effect === 'Allow' && resourcesOf(statement).includes('*'))
        .map(({ owner, statement }) => `${stack}/${owner}: ${actionsOf(statement).join(',')}`),
    );
    expect(offending).toEqual([]);
  });

  it('resource policies allow wildcard actions only to the account root, as KMS key administration', () => {
    const offending = [...synth('prod').allTemplates()].flatMap(([stack, t]) =>
      resourcePolicyStatements(t)
        .filter(({ statement }) => statement.Effect === 'Allow' && actionsOf(statement).some((a) => a.includes('*')))
        .filter(({ statement }) => !JSON.stringify(statement.Principal).includes(':root'))
        .map(({ owner }) => `${stack}/${owner}`),
    );
    expect(offending).toEqual([]);
  });

  it('lets each function write only the Kafka topics the pipeline contract gives it', () => {
    const writes = (fn: FunctionName) => kafkaGrants(statementsOf('dev', fn), 'kafka-cluster:WriteData');
    expect(writes('ingest')).toEqual([`topic:${TOPICS.events}`, `topic:${TOPICS.ticks}`]);
    expect(writes('process')).toEqual([`topic:${TOPICS.deadLetter}`, `topic:${TOPICS.indicators}`, `topic:${TOPICS.stateChangelog}`]);
    expect(writes('signal')).toEqual([`topic:${TOPICS.signals}`, `topic:${TOPICS.stateChangelog}`]);
    expect(writes('notify')).toEqual([]);
    expect(writes('aggregate')).toEqual([]);
    expect(writes('api')).toEqual([]);
  });

  it('lets each consumer read only its trigger topics, through its own consumer groups', () => {
    const reads = (fn: FunctionName) => kafkaGrants(statementsOf('dev', fn), 'kafka-cluster:ReadData');
    const groups = (fn: FunctionName) => kafkaGrants(statementsOf('dev', fn), 'kafka-cluster:AlterGroup');
    expect(reads('process')).toEqual([`topic:${TOPICS.ticks}`]);
    expect(reads('signal')).toEqual([`topic:${TOPICS.indicators}`]);
    expect(reads('notify')).toEqual([`topic:${TOPICS.signals}`]);
    expect(reads('aggregate')).toEqual([`topic:${TOPICS.events}`, `topic:${TOPICS.signals}`, `topic:${TOPICS.ticks}`]);
    expect(reads('ingest')).toEqual([]);
    expect(groups('process')).toEqual(['group:market-dev.process']);
    expect(groups('aggregate')).toEqual(['group:market-dev.aggregate.events', 'group:market-dev.aggregate.signals', 'group:market-dev.aggregate.ticks']);
  });

  it('gives only aggregate elasticfilesystem:ClientWrite; api may only mount', () => {
    const efsActions = (fn: FunctionName) => statementsOf('dev', fn).flatMap(actionsOf).filter((a) => a.startsWith('elasticfilesystem:')).sort();
    expect(efsActions('aggregate')).toEqual(['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite']);
    expect(efsActions('api')).toEqual(['elasticfilesystem:ClientMount']);
    for (const fn of ['ingest', 'process', 'signal', 'notify'] as const) expect(efsActions(fn)).toEqual([]);
  });

  it('lets only notify publish signals and only api manage subscriptions', () => {
    const snsActions = (fn: FunctionName) => statementsOf('dev', fn).flatMap(actionsOf).filter((a) => a.startsWith('sns:')).sort();
    expect(snsActions('notify')).toEqual(['sns:Publish']);
    expect(snsActions('api')).toEqual(['sns:GetSubscriptionAttributes', 'sns:ListSubscriptionsByTopic', 'sns:SetSubscriptionAttributes', 'sns:Subscribe', 'sns:Unsubscribe']);
    for (const fn of ['ingest', 'process', 'signal', 'aggregate'] as const) expect(snsActions(fn)).toEqual([]);
  });

  it('lets external-Kafka functions read only the configured credentials secret', () => {
    const secretResources = statementsOf('external', 'ingest')
      .filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'))
      .flatMap(resourcesOf);
    expect(secretResources).toEqual([VARIANTS.external.kafkaSecretArn]);
  });
});

describe('encryption', () => {
  it.each(VARIANT_NAMES)('%s: every SNS topic is encrypted with a customer managed key', (variant) => {
    const topics = [...synth(variant).allTemplates().values()].flatMap((t) => resourcesOfType(t, 'AWS::SNS::Topic'));
    expect(topics.length).toBeGreaterThanOrEqual(2);
    for (const [, topic] of topics) expect(props(topic).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
  });

  it('every SNS topic policy refuses publishes without TLS', () => {
    const policies = [...synth('dev').allTemplates().values()].flatMap((t) => resourcePolicyStatements(t)).filter(({ owner }) => owner.includes('Policy') && owner.includes('topic'));
    const denies = policies.filter(({ statement }) => statement.Effect === 'Deny' && JSON.stringify(statement.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}');
    expect(new Set(denies.map((d) => d.owner)).size).toBe(2);
  });

  it('every SQS queue is encrypted and refuses non-TLS access', () => {
    const t = synth('dev').template('functions');
    const queues = resourcesOfType(t, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(4);
    for (const [, q] of queues) expect(props(q).SqsManagedSseEnabled === true || props(q).KmsMasterKeyId !== undefined).toBe(true);
    const tlsDenies = resourcePolicyStatements(t).filter(({ statement }) => statement.Effect === 'Deny' && JSON.stringify(statement.Condition).includes('"aws:SecureTransport":"false"'));
    expect(tlsDenies).toHaveLength(4);
  });

  it('the EFS file system is encrypted at rest and refuses unencrypted mounts', () => {
    const t = synth('dev').template('storage');
    const [[, fs]] = resourcesOfType(t, 'AWS::EFS::FileSystem') as [[string, Record<string, unknown>]];
    expect(props(fs).Encrypted).toBe(true);
    const policy = props(fs).FileSystemPolicy as { Statement: { Effect: string; Condition: unknown }[] };
    expect(policy.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });

  it.each(VARIANT_NAMES)('%s: every log group is encrypted with the stage log key', (variant) => {
    const groups = [...synth(variant).allTemplates().values()].flatMap((t) => resourcesOfType(t, 'AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThan(6);
    for (const [, g] of groups) expect(props(g).KmsKeyId).toBeDefined();
  });

  it.each(VARIANT_NAMES)('%s: every KMS key rotates', (variant) => {
    const keys = [...synth(variant).allTemplates().values()].flatMap((t) => resourcesOfType(t, 'AWS::KMS::Key'));
    expect(keys).toHaveLength(3);
    for (const [, k] of keys) expect(props(k).EnableKeyRotation).toBe(true);
  });

  it('functions reach Valkey over TLS in cluster mode', () => {
    const s = synth('dev');
    const t = s.template('functions');
    const env = (fn: FunctionName) => (props(t.toJSON().Resources[logicalIdOf(s.stacks.functions.functions[fn], s.stacks.functions)]).Environment as { Variables: Record<string, unknown> }).Variables;
    for (const fn of ['process', 'signal', 'notify', 'api'] as const) {
      expect(JSON.stringify(env(fn).REDIS_URL)).toMatch(/^\{"Fn::Join":\["",\["rediss:\/\/"/);
      expect(env(fn).REDIS_CLUSTER).toBe('true');
    }
    synth('dev').template('cache').hasResourceProperties('AWS::ElastiCache::ServerlessCache', { Engine: 'valkey' });
  });

  it('provisioned MSK encrypts client and inter-broker traffic and refuses unauthenticated clients', () => {
    synth('prod').template('stream').hasResourceProperties('AWS::MSK::Cluster', {
      EncryptionInfo: { EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true } },
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } },
    });
  });

  it('MSK Serverless accepts IAM-authenticated clients only', () => {
    synth('dev').template('stream').hasResourceProperties('AWS::MSK::ServerlessCluster', { ClientAuthentication: { Sasl: { Iam: { Enabled: true } } } });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each(VARIANT_NAMES)('%s: no unacknowledged findings', (variant) => {
    const { app } = synth(variant);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const findings = report.violations.map((v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });

  it('reports a finding that nothing acknowledges (the check is live)', () => {
    const app = new App();
    const stack = new Stack(app, 'probe');
    new iam.Role(stack, 'too-broad', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }).addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }),
    );
    const rules = new AwsSolutionsChecks(app).validateScope(app).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-IAM5[Action::s3:*]', 'AwsSolutions-IAM5[Resource::*]']));
  });

  it('acknowledges IAM findings one by one, never a whole rule, and never on a stack or the app', () => {
    const { app } = synth('dev');
    const acknowledgments = app.node.findAll().flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ at: c, id: id.replace(/^annotation::/i, ''), reason }))),
    );
    const nag = acknowledgments.filter((a) => a.id.startsWith('AwsSolutions-'));
    expect(nag.length).toBeGreaterThan(10);
    for (const a of nag) {
      expect(a.at instanceof Stack || a.at === app).toBe(false);
      if (/^AwsSolutions-IAM[45]/.test(a.id)) expect(a.id).toMatch(/^AwsSolutions-IAM[45]\[(Policy|Resource|Action)::.+\]$/);
      expect(a.reason.length).toBeGreaterThan(60);
    }
  });
});
