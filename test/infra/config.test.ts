import { describe, expect, it } from '@jest/globals';
import { ContextError, parseInfraConfig } from '../../infra/config';
import { CDK_JSON_CONTEXT } from './fixtures';

const problemsOf = (context: Record<string, unknown>): readonly string[] => {
  try {
    parseInfraConfig(context);
  } catch (error) {
    if (error instanceof ContextError) return error.problems;
    throw error;
  }
  throw new Error('expected a ContextError');
};

describe('CDK context parsing', () => {
  it('reads the committed cdk.json as a dev stage on MSK Serverless without NAT', () => {
    const { config, warnings } = parseInfraConfig(CDK_JSON_CONTEXT);
    expect(config).toMatchObject({ stage: 'dev', prefix: 'market-dev', nat: false, kafka: { mode: 'serverless', partitions: 3 }, auth: { kind: 'cognito' } });
    expect(warnings).toEqual([]);
  });

  it('accepts -c values, which always arrive as strings', () => {
    const { config } = parseInfraConfig({ stage: 'prod', nat: 'true', kafkaPartitions: '12', corsOrigins: 'https://a.example,https://b.example', logRetentionDays: '30' });
    expect(config.stage).toBe('prod');
    expect(config.nat).toBe(true);
    expect(config.kafka.partitions).toBe(12);
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.logRetentionDays).toBe(30);
  });

  it('derives stage defaults that differ between dev and prod', () => {
    const dev = parseInfraConfig({ stage: 'dev' }).config;
    const prod = parseInfraConfig({ stage: 'prod' }).config;
    expect(dev.logRetentionDays).toBeLessThan(prod.logRetentionDays);
    expect(dev.throttle.rateLimit).toBeLessThan(prod.throttle.rateLimit);
  });

  it('names every bad key in one error, with what was received', () => {
    const problems = problemsOf({ stage: 'qa', kafkaPartitions: '0', nat: 'maybe', logRetentionDays: '10' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^stage: must be dev or prod \(got "qa"\)$/),
        expect.stringMatching(/^kafkaPartitions: must be >= 1/),
        expect.stringMatching(/^nat: must be true or false \(got "maybe"\)$/),
        expect.stringMatching(/^logRetentionDays: must be one of 1, 3, 5, 7, 14/),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('reports cross-key rules alongside single-key errors', () => {
    expect(problemsOf({ stage: 'qa', kafka: 'external' }).map((p) => p.split(':')[0]).sort()).toEqual(['kafkaBootstrapServers', 'kafkaSecretArn', 'nat', 'stage']);
  });

  it('requires brokers, a secret and a NAT for bring-your-own Kafka', () => {
    const problems = problemsOf({ kafka: 'external' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['kafkaBootstrapServers', 'kafkaSecretArn', 'nat']);
  });

  it('rejects bootstrap servers that are not host:port', () => {
    const problems = problemsOf({ kafka: 'external', nat: true, kafkaSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:k-AbCdEf', kafkaBootstrapServers: 'broker-1' });
    expect(problems).toEqual([expect.stringContaining('"broker-1" is not host:port')]);
  });

  it('requires an external JWT issuer and audience together', () => {
    expect(problemsOf({ jwtIssuer: 'https://auth.example.com/' })).toEqual([expect.stringMatching(/^jwtAudience: jwtIssuer and jwtAudience go together/)]);
    const { config } = parseInfraConfig({ jwtIssuer: 'https://auth.example.com/', jwtAudience: 'a,b' });
    expect(config.auth).toEqual({ kind: 'jwt', issuer: 'https://auth.example.com/', audience: ['a', 'b'] });
  });

  it('refuses a plain-http JWT issuer', () => {
    expect(problemsOf({ jwtIssuer: 'http://auth.example.com/', jwtAudience: 'a' })[0]).toMatch(/^jwtIssuer: must be an https URL/);
  });

  it('refuses signal rules that are not JSON, before they reach a Lambda environment', () => {
    expect(problemsOf({ signalRules: '{rsi: 30' })).toEqual([expect.stringMatching(/^signalRules: must be a JSON document/)]);
  });

  it('warns about keys it does not know (typos) but not about CDK feature flags', () => {
    const { warnings } = parseInfraConfig({ nats: 'true', '@aws-cdk/core:checkSecretUsage': true, 'aws:cdk:bundling-stacks': [] });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^unknown context key "nats" ignored/);
  });
});
