import { describe, expect, it } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { StageFunction } from '../../infra/constructs/stage-function';
import { logicalIdOf, props, resourcesOfType, synth } from './fixtures';

type Json = Record<string, unknown>;

/** Stateful resources whose fate on stack deletion depends on the stage. */
const STATEFUL_TYPES = ['AWS::EFS::FileSystem', 'AWS::KMS::Key', 'AWS::Logs::LogGroup', 'AWS::Cognito::UserPool', 'AWS::SQS::Queue', 'AWS::ElastiCache::ServerlessCache', 'AWS::MSK::ServerlessCluster', 'AWS::MSK::Cluster'];

const deletionPolicies = (variant: 'dev' | 'prod') =>
  [...synth(variant).allTemplates().values()].flatMap((t) =>
    STATEFUL_TYPES.flatMap((type) => resourcesOfType(t, type).map(([id, r]) => ({ id: `${type} ${id}`, policy: r.DeletionPolicy }))),
  );

describe('stages', () => {
  it('dev deletes its stateful resources with the stack', () => {
    const policies = deletionPolicies('dev');
    expect(policies.length).toBeGreaterThan(10);
    expect(policies.filter((p) => p.policy !== 'Delete')).toEqual([]);
  });

  it('prod retains its stateful resources when a stack goes', () => {
    const policies = deletionPolicies('prod');
    expect(policies.filter((p) => p.policy !== 'Retain')).toEqual([]);
  });

  it('prod protects the user pool from deletion, backs up EFS and keeps cache snapshots', () => {
    const prod = synth('prod');
    prod.template('api').hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'ACTIVE' });
    prod.template('storage').hasResourceProperties('AWS::EFS::FileSystem', { BackupPolicy: { Status: 'ENABLED' } });
    prod.template('cache').hasResourceProperties('AWS::ElastiCache::ServerlessCache', { SnapshotRetentionLimit: 7 });
    const devFs = resourcesOfType(synth('dev').template('storage'), 'AWS::EFS::FileSystem')[0]?.[1] ?? {};
    expect(props(devFs).BackupPolicy).toBeUndefined();
  });

  it('names every stack after the project and stage', () => {
    expect([...synth('prod').allTemplates().keys()].sort()).toEqual(
      ['api', 'cache', 'functions', 'network', 'notifications', 'observability', 'storage', 'stream'].map((s) => `market-prod-${s}`),
    );
  });

  it('tags resources for cost allocation, with the cost centre when given', () => {
    const prod = synth('prod');
    const fn = resourcesOfType(prod.template('functions'), 'AWS::Lambda::Function')[0]?.[1] ?? {};
    expect(props(fn).Tags).toEqual(
      expect.arrayContaining([
        { Key: 'project', Value: 'market' },
        { Key: 'stage', Value: 'prod' },
        { Key: 'cost-center', Value: 'trading-42' },
      ]),
    );
    const devFn = resourcesOfType(synth('dev').template('functions'), 'AWS::Lambda::Function')[0]?.[1] ?? {};
    expect((props(devFn).Tags as { Key: string }[]).map((t) => t.Key)).not.toContain('cost-center');
  });
});

describe('StageFunction defaults', () => {
  const stageFunctions = () => synth('dev').app.node.findAll().filter((c): c is StageFunction => c instanceof StageFunction);
  const cfn = (fn: StageFunction) => {
    const stack = Stack.of(fn);
    return props(Template.fromStack(stack).toJSON().Resources[logicalIdOf(fn, stack)] as Json);
  };

  it('runs every function on nodejs24.x, arm64, from the ESM bundle entry', () => {
    for (const fn of stageFunctions()) expect(cfn(fn)).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
  });

  it('logs structured JSON to its own encrypted log group with the stage retention', () => {
    for (const fn of stageFunctions()) {
      const logging = cfn(fn).LoggingConfig as { LogFormat: string; LogGroup: { Ref: string } };
      expect(logging.LogFormat).toBe('JSON');
      const stack = Stack.of(fn);
      expect(logging.LogGroup.Ref).toBe(logicalIdOf(fn.functionLogGroup, stack));
      const group = props(Template.fromStack(stack).toJSON().Resources[logging.LogGroup.Ref] as Json);
      expect(group.RetentionInDays).toBe(14);
      expect(group.KmsKeyId).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^market-dev-network:.*logkey/) });
    }
  });

  it('enables source maps in every function', () => {
    for (const fn of stageFunctions()) expect((cfn(fn).Environment as { Variables: Json }).Variables.NODE_OPTIONS).toBe('--enable-source-maps');
  });

  it('hands the indicator settings to process and signal rules to signal only when configured', () => {
    const env = (variant: 'dev' | Record<string, string>, name: 'process' | 'signal') => {
      const s = synth(variant);
      const fn = s.stacks.functions.functions[name];
      return (props(s.template('functions').toJSON().Resources[logicalIdOf(fn, s.stacks.functions)] as Json).Environment as { Variables: Json }).Variables;
    };
    expect(env('dev', 'process')).toMatchObject({ TIMEFRAME: '1m', MA_PERIOD: '20', EMA_PERIOD: '20', RSI_PERIOD: '14' });
    expect(env('dev', 'signal').RULES_JSON).toBeUndefined();
    expect(env({ signalRules: '{"rsi":{"oversold":25}}' }, 'signal').RULES_JSON).toBe('{"rsi":{"oversold":25}}');
  });
});
