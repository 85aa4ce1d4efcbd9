/**
 * Cache: ElastiCache Serverless for Valkey. It always runs in cluster mode with TLS and
 * encryption at rest, so functions connect with `rediss://` and REDIS_CLUSTER=true.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type { Construct } from 'constructs';
import type { InfraConfig } from '../config';
import type { StageFunction } from '../constructs/stage-function';
import { removalPolicyFor } from './stage-policies';

export interface CacheStackProps extends StackProps {
  readonly config: InfraConfig;
  readonly vpc: ec2.IVpc;
  readonly privateSubnets: ec2.SubnetSelection;
}

/** Serverless caches serve the primary on 6379 and reads from replicas on 6380. */
export const VALKEY_PORTS = ec2.Port.tcpRange(6379, 6380);

export class CacheStack extends Stack {
  readonly cache: elasticache.CfnServerlessCache;
  readonly securityGroup: ec2.SecurityGroup;
  /** `rediss://host:port`: TLS is mandatory on ElastiCache Serverless. */
  readonly redisUrl: string;

  constructor(scope: Construct, id: string, props: CacheStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.securityGroup = new ec2.SecurityGroup(this, 'cache-security-group', {
      vpc: props.vpc,
      description: `${config.prefix} Valkey: reachable only from functions granted access`,
      allowAllOutbound: false,
    });
    this.cache = new elasticache.CfnServerlessCache(this, 'cache', {
      serverlessCacheName: `${config.prefix}-cache`,
      description: `${config.prefix} indicator state, latest snapshots and dedupe markers`,
      engine: 'valkey',
      majorEngineVersion: '8',
      securityGroupIds: [this.securityGroup.securityGroupId],
      subnetIds: props.vpc.selectSubnets(props.privateSubnets).subnetIds,
      // Caps bound the bill: state is a few KB per symbol, so 1 GB is generous.
      cacheUsageLimits: {
        dataStorage: { maximum: config.stage === 'prod' ? 10 : 1, unit: 'GB' },
        ecpuPerSecond: { maximum: config.stage === 'prod' ? 100_000 : 10_000 },
      },
      snapshotRetentionLimit: config.stage === 'prod' ? 7 : 0,
    });
    this.cache.applyRemovalPolicy(removalPolicyFor(config.stage));
    this.redisUrl = `rediss://${this.cache.attrEndpointAddress}:${this.cache.attrEndpointPort}`;
  }

  /** Opens the cache to `fn` and tells it where the cache is (REDIS_URL, REDIS_CLUSTER). */
  grantConnect(fn: StageFunction): void {
    fn.connections.allowTo(this.securityGroup, VALKEY_PORTS, 'Valkey (TLS)');
    fn.addEnvironment('REDIS_URL', this.redisUrl);
    fn.addEnvironment('REDIS_CLUSTER', 'true');
  }
}
