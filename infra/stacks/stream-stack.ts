/**
 * Stream: the Kafka cluster and its topics.
 * - `kafka=serverless` (default): MSK Serverless, IAM auth only.
 * - `kafka=provisioned`: a two-broker MSK cluster (one per AZ), IAM auth, TLS everywhere.
 * (`kafka=external` has no stream stack: the cluster is described by context, see
 * externalKafkaConnection, and its topics are created with its own tooling.)
 * MSK topics are created at deploy time by a custom resource, as MSK has no topic resource.
 */
import { type CfnElement, CustomResource, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import type { InfraConfig } from '../config';
import { type KafkaConnection, MSK_IAM_PORT, kafkaResourceArn } from '../constructs/kafka-access';
import { StageFunction } from '../constructs/stage-function';
import { acknowledgeNag, managedPolicyFinding } from '../nag';
import { topicSpecs } from '../topics';
import { removalPolicyFor, retentionFor } from './stage-policies';

export interface StreamStackProps extends StackProps {
  readonly config: InfraConfig;
  readonly vpc: ec2.IVpc;
  readonly privateSubnets: ec2.SubnetSelection;
  readonly logKey: kms.IKey;
}

export class StreamStack extends Stack {
  readonly kafka: KafkaConnection;
  readonly clusterArn: string;
  /** MSK's cluster name, the dimension of its CloudWatch metrics. */
  readonly clusterName: string;

  constructor(scope: Construct, id: string, props: StreamStackProps) {
    super(scope, id, props);
    const { config } = props;
    if (config.kafka.mode === 'external') throw new Error('kafka=external deploys no stream stack');

    const securityGroup = new ec2.SecurityGroup(this, 'kafka-security-group', {
      vpc: props.vpc,
      description: `${config.prefix} Kafka brokers`,
      allowAllOutbound: false,
    });
    // Lambda's event pollers attach to the cluster's own subnets and security group: they
    // reach the brokers through it, and the Lambda and STS endpoints over HTTPS.
    securityGroup.connections.allowInternally(ec2.Port.tcp(MSK_IAM_PORT), 'Kafka event source mapping pollers');
    securityGroup.addEgressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(443), 'event source mapping pollers to the Lambda and STS endpoints');
    const subnetIds = props.vpc.selectSubnets(props.privateSubnets).subnetIds;
    this.clusterName = config.prefix;
    const removalPolicy = removalPolicyFor(config.stage);

    let clusterArn: string;
    if (config.kafka.mode === 'serverless') {
      const cluster = new msk.CfnServerlessCluster(this, 'cluster', {
        clusterName: this.clusterName,
        clientAuthentication: { sasl: { iam: { enabled: true } } },
        vpcConfigs: [{ subnetIds, securityGroups: [securityGroup.securityGroupId] }],
      });
      cluster.applyRemovalPolicy(removalPolicy);
      clusterArn = cluster.attrArn;
    } else {
      const brokerLogs = new logs.LogGroup(this, 'broker-log-group', {
        retention: retentionFor(config),
        encryptionKey: props.logKey,
        removalPolicy,
      });
      const cluster = new msk.CfnCluster(this, 'cluster', {
        clusterName: this.clusterName,
        kafkaVersion: config.kafka.version,
        numberOfBrokerNodes: subnetIds.length,
        brokerNodeGroupInfo: {
          clientSubnets: subnetIds,
          instanceType: config.kafka.brokerInstanceType,
          securityGroups: [securityGroup.securityGroupId],
          storageInfo: { ebsStorageInfo: { volumeSize: 100 } },
        },
        clientAuthentication: { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } },
        encryptionInfo: { encryptionInTransit: { clientBroker: 'TLS', inCluster: true } },
        loggingInfo: { brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: brokerLogs.logGroupName } } },
      });
      cluster.applyRemovalPolicy(removalPolicy);
      clusterArn = cluster.attrArn;
    }
    this.clusterArn = clusterArn;

    const bootstrapBrokers = this.bootstrapBrokers(clusterArn, props, config);
    this.createTopics(props, config, clusterArn, bootstrapBrokers, securityGroup);
    this.kafka = { mode: config.kafka.mode, bootstrapBrokers, auth: 'iam', clusterArn, clusterConnections: securityGroup };
  }

  /** MSK publishes broker addresses only through its API (Serverless has no CloudFormation attribute). */
  private bootstrapBrokers(clusterArn: string, props: StreamStackProps, config: InfraConfig): string {
    const logGroup = new logs.LogGroup(this, 'bootstrap-brokers-log-group', {
      retention: retentionFor(config),
      encryptionKey: props.logKey,
      removalPolicy: removalPolicyFor(config.stage),
    });
    const lookup = new cr.AwsCustomResource(this, 'bootstrap-brokers', {
      onUpdate: {
        service: 'Kafka',
        action: 'getBootstrapBrokers',
        parameters: { ClusterArn: clusterArn },
        physicalResourceId: cr.PhysicalResourceId.of(clusterArn),
        outputPaths: ['BootstrapBrokerStringSaslIam'],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['kafka:GetBootstrapBrokers'], resources: [clusterArn] }),
      ]),
      installLatestAwsSdk: false,
      logGroup,
    });
    suppressFrameworkFindings(this, 'AWS679f53fac002430cb0da5b7982bd2287', 'the AwsCustomResource singleton that reads the bootstrap brokers');
    return lookup.getResponseField('BootstrapBrokerStringSaslIam');
  }

  private createTopics(props: StreamStackProps, config: InfraConfig, clusterArn: string, bootstrapBrokers: string, clusterSecurityGroup: ec2.ISecurityGroup): void {
    const removalPolicy = removalPolicyFor(config.stage);
    const fn = new StageFunction(this, 'create-topics', {
      entry: 'infra/custom-resources/create-topics.ts',
      description: `${config.prefix}: creates Kafka topics at deploy time`,
      vpc: props.vpc,
      subnets: props.privateSubnets,
      logKey: props.logKey,
      logRetention: retentionFor(config),
      removalPolicy,
      memorySize: 256,
      timeout: Duration.minutes(2),
    });
    fn.connections.allowTo(clusterSecurityGroup, ec2.Port.tcp(MSK_IAM_PORT), 'create topics over SASL/IAM + TLS');
    const specs = topicSpecs(config.kafka.partitions);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'KafkaAdminCluster',
        actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
        resources: [clusterArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'KafkaAdminTopics',
        actions: ['kafka-cluster:CreateTopic', 'kafka-cluster:DescribeTopic', 'kafka-cluster:AlterTopic', 'kafka-cluster:DescribeTopicDynamicConfiguration'],
        resources: specs.map((s) => kafkaResourceArn(clusterArn, 'topic', s.name)),
      }),
    );

    const providerLogGroup = new logs.LogGroup(this, 'topics-provider-log-group', {
      retention: retentionFor(config),
      encryptionKey: props.logKey,
      removalPolicy,
    });
    const provider = new cr.Provider(this, 'topics-provider', { onEventHandler: fn, logGroup: providerLogGroup });
    suppressFrameworkFindings(provider, undefined, 'the CDK Provider framework function that relays CloudFormation events to create-topics');
    const onEventLogicalId = this.getLogicalId(fn.node.defaultChild as CfnElement);
    acknowledgeNag(
      provider,
      'AwsSolutions-IAM5',
      'The Provider framework may invoke any version of the create-topics function it fronts; the wildcard covers versions of that one function only.',
      [`Resource::<${onEventLogicalId}.Arn>:*`],
    );
    new CustomResource(this, 'topics', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::KafkaTopics',
      properties: { BootstrapBrokers: bootstrapBrokers, Auth: 'iam', Topics: JSON.stringify(specs) },
    });
  }
}

/**
 * CDK's own custom-resource Lambdas (framework code we do not write) use the basic execution
 * managed policy and a runtime CDK chooses; suppressed on those constructs only.
 */
export function suppressFrameworkFindings(scope: Construct, childId: string | undefined, what: string): void {
  const target = childId ? Stack.of(scope).node.tryFindChild(childId) : scope;
  if (!target) return;
  acknowledgeNag(target, 'AwsSolutions-IAM4', `AWSLambdaBasicExecutionRole on ${what}: it only writes its own logs.`, [
    managedPolicyFinding('service-role/AWSLambdaBasicExecutionRole'),
  ]);
}
