/**
 * Network: a VPC with private subnets in two AZs, interface endpoints for the AWS APIs the
 * functions and the Kafka event source mappings call (so no NAT is needed), VPC flow logs,
 * and the KMS key that encrypts every log group of the stage.
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { InfraConfig } from '../config';
import { removalPolicyFor, retentionFor } from './stage-policies';

export interface NetworkStackProps extends StackProps {
  readonly config: InfraConfig;
}

/**
 * SNS: notify publishes, the API manages subscriptions. SQS: on-failure destinations of the
 * event source mappings. Lambda and STS: Kafka event source mappings in a VPC without NAT.
 */
export const INTERFACE_ENDPOINTS = {
  sns: ec2.InterfaceVpcEndpointAwsService.SNS,
  sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
  lambda: ec2.InterfaceVpcEndpointAwsService.LAMBDA,
  sts: ec2.InterfaceVpcEndpointAwsService.STS,
} as const;

/** A literal, not a token, so security group rules built from it stay reviewable (and cdk-nag can read them). */
export const VPC_CIDR = '10.40.0.0/16';

export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;
  /** Where functions, the cache, the file system and the Kafka cluster live. */
  readonly privateSubnets: ec2.SubnetSelection;
  readonly logKey: kms.Key;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = removalPolicyFor(config.stage);

    this.logKey = new kms.Key(this, 'log-key', {
      description: `${config.prefix}: encrypts the stage's CloudWatch log groups`,
      alias: `alias/${config.prefix}/logs`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(config.stage === 'prod' ? 30 : 7),
      removalPolicy,
    });
    this.logKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsUse',
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:*` },
        },
      }),
    );

    const privateSubnetType = config.nat ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;
    this.vpc = new ec2.Vpc(this, 'vpc', {
      ipAddresses: ec2.IpAddresses.cidr(VPC_CIDR),
      maxAzs: 2,
      natGateways: config.nat ? (config.stage === 'prod' ? 2 : 1) : 0,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        ...(config.nat ? [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }] : []),
        { name: 'private', subnetType: privateSubnetType, cidrMask: 20 },
      ],
    });
    this.privateSubnets = { subnetGroupName: 'private' };

    const flowLogGroup = new logs.LogGroup(this, 'flow-log-group', {
      retention: retentionFor(config),
      encryptionKey: this.logKey,
      removalPolicy,
    });
    this.vpc.addFlowLog('flow-log', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS)) {
      const endpoint = this.vpc.addInterfaceEndpoint(`${name}-endpoint`, {
        service,
        subnets: this.privateSubnets,
        privateDnsEnabled: true,
        open: false,
      });
      endpoint.connections.allowDefaultPortFrom(ec2.Peer.ipv4(VPC_CIDR), 'HTTPS from inside the VPC');
    }
  }
}
