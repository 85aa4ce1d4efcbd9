/**
 * How functions reach Kafka, whichever flavour the stage runs (MSK Serverless, provisioned
 * MSK or an external cluster). Granting produce or consume access here also sets the
 * environment variables the handlers read and opens the network path.
 */
import { Duration, Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AuthenticationMethod, ManagedKafkaEventSource, SelfManagedKafkaEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { TopicName } from '../../shared/config';
import type { InfraConfig, KafkaMode } from '../config';
import { acknowledgeNag, managedPolicyFinding } from '../nag';
import type { StageFunction } from './stage-function';

/** The value of KAFKA_AUTH the handlers receive. */
export type KafkaAuth = 'iam' | 'scram' | 'mtls';

/** MSK's port for SASL/IAM over TLS (both Serverless and provisioned clusters). */
export const MSK_IAM_PORT = 9098;

export interface KafkaConnection {
  readonly mode: KafkaMode;
  /** Comma-separated host:port list. */
  readonly bootstrapBrokers: string;
  readonly auth: KafkaAuth;
  /** MSK only. */
  readonly clusterArn?: string;
  /** MSK only: the cluster's security group, which functions must be let into. */
  readonly clusterConnections?: ec2.IConnectable;
  /** External only: ARN of the SASL/SCRAM credentials or the mTLS client certificate secret. */
  readonly secretArn?: string;
  /** External only: ARN of the secret holding the brokers' private root CA, if any. */
  readonly rootCaSecretArn?: string;
}

/** A bring-your-own cluster is described by context alone; nothing is deployed for it. */
export function externalKafkaConnection(config: InfraConfig): KafkaConnection {
  const { secretArn, rootCaSecretArn, bootstrapServers, externalAuth } = config.kafka;
  if (config.kafka.mode !== 'external' || !secretArn) throw new Error('externalKafkaConnection needs kafka=external and kafkaSecretArn');
  return { mode: 'external', bootstrapBrokers: bootstrapServers.join(','), auth: externalAuth, secretArn, rootCaSecretArn };
}

export interface KafkaSubscription {
  readonly topic: TopicName;
  readonly consumerGroupId: string;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  /** Encrypted SQS queue that receives the metadata of batches given up on. */
  readonly onFailure: sqs.IQueue;
  readonly retryAttempts: number;
}

export interface PollerSettings {
  readonly minimumPollers: number;
  readonly maximumPollers: number;
  /** ESMs in one group share event poller units, which keeps provisioned mode affordable. */
  readonly pollerGroupName: string;
}

/**
 * `arn:...:cluster/NAME/UUID` to `arn:...:<kind>/NAME/UUID/<name>`: MSK IAM scopes topics and
 * groups by the cluster's name and UUID, which only the cluster ARN carries.
 */
export function kafkaResourceArn(clusterArn: string, kind: 'topic' | 'group', name: string): string {
  const [prefix, nameAndUuid] = Fn.split(':cluster/', clusterArn, 2);
  return Fn.join('', [prefix ?? '', `:${kind}/`, nameAndUuid ?? '', `/${name}`]);
}

/** Distinct ports of a `host:port,host:port` list. */
export function brokerPorts(bootstrapBrokers: string): number[] {
  return [...new Set(bootstrapBrokers.split(',').map((b) => Number(b.slice(b.lastIndexOf(':') + 1))))].sort((a, b) => a - b);
}

export class KafkaAccess {
  private readonly acknowledgedRoles = new WeakSet<iam.IRole>();
  private readonly secret?: secretsmanager.ISecret;
  private readonly rootCaSecret?: secretsmanager.ISecret;

  /** `scope` is where external secrets get imported (the functions' stack). */
  constructor(
    scope: Construct,
    readonly connection: KafkaConnection,
    private readonly pollers: PollerSettings,
  ) {
    if (connection.secretArn) this.secret = secretsmanager.Secret.fromSecretCompleteArn(scope, 'kafka-secret', connection.secretArn);
    if (connection.rootCaSecretArn) this.rootCaSecret = secretsmanager.Secret.fromSecretCompleteArn(scope, 'kafka-root-ca', connection.rootCaSecretArn);
  }

  /** Lets `fn` produce to `topics`; sets KAFKA_BROKERS and KAFKA_AUTH (and KAFKA_SECRET_ARN). */
  grantProduce(fn: StageFunction, topics: readonly TopicName[]): void {
    this.connect(fn);
    const clusterArn = this.connection.clusterArn;
    if (clusterArn === undefined) return;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'KafkaProducerCluster',
        actions: ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'],
        resources: [clusterArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'KafkaProducerTopics',
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
        resources: topics.map((t) => kafkaResourceArn(clusterArn, 'topic', t)),
      }),
    );
  }

  /** Triggers `fn` from `topic` through an event source mapping with its own consumer group. */
  subscribe(fn: StageFunction, sub: KafkaSubscription): void {
    const common = {
      topic: sub.topic,
      consumerGroupId: sub.consumerGroupId,
      batchSize: sub.batchSize,
      maxBatchingWindow: sub.maxBatchingWindow,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      retryAttempts: sub.retryAttempts,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(sub.onFailure),
      // Retry, bisect and partial-batch controls of Kafka ESMs work only in provisioned mode.
      provisionedPollerConfig: { ...this.pollers },
    };
    const clusterArn = this.connection.clusterArn;
    if (clusterArn !== undefined) {
      fn.addEventSource(new ManagedKafkaEventSource({ clusterArn, ...common }));
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'KafkaConsumerCluster',
          actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
          resources: [clusterArn],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
          resources: [kafkaResourceArn(clusterArn, 'topic', sub.topic)],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
          resources: [kafkaResourceArn(clusterArn, 'group', sub.consumerGroupId)],
        }),
      );
      if (fn.role && !this.acknowledgedRoles.has(fn.role)) {
        this.acknowledgedRoles.add(fn.role);
        acknowledgeNag(
          fn.role,
          'AwsSolutions-IAM4',
          'ManagedKafkaEventSource attaches AWSLambdaMSKExecutionRole: the event source mapping needs kafka:DescribeClusterV2/GetBootstrapBrokers and ENI management in the cluster VPC, which AWS maintains there. Data-plane access is granted separately, per topic and group.',
          [managedPolicyFinding('service-role/AWSLambdaMSKExecutionRole')],
        );
      }
      return;
    }
    const secret = this.secret;
    if (secret === undefined) throw new Error('An external Kafka event source needs the credentials secret (kafkaSecretArn)');
    fn.addEventSource(
      new SelfManagedKafkaEventSource({
        ...common,
        bootstrapServers: this.connection.bootstrapBrokers.split(','),
        authenticationMethod: this.connection.auth === 'mtls' ? AuthenticationMethod.CLIENT_CERTIFICATE_TLS_AUTH : AuthenticationMethod.SASL_SCRAM_512_AUTH,
        secret,
        rootCACertificate: this.rootCaSecret,
      }),
    );
  }

  private connect(fn: StageFunction): void {
    fn.addEnvironment('KAFKA_BROKERS', this.connection.bootstrapBrokers);
    fn.addEnvironment('KAFKA_AUTH', this.connection.auth);
    if (this.connection.clusterConnections) {
      fn.connections.allowTo(this.connection.clusterConnections, ec2.Port.tcp(MSK_IAM_PORT), 'Kafka over SASL/IAM + TLS');
    }
    const secret = this.secret;
    if (secret) {
      fn.addEnvironment('KAFKA_SECRET_ARN', secret.secretArn);
      secret.grantRead(fn);
    }
    if (this.connection.mode === 'external') {
      // Outside brokers and Secrets Manager are reached through the NAT gateway.
      for (const port of brokerPorts(this.connection.bootstrapBrokers)) {
        fn.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), 'external Kafka brokers');
      }
      fn.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'Secrets Manager (Kafka credentials) through the NAT gateway');
    }
  }
}
