/**
 * Storage: an encrypted EFS file system holding the SQLite history, reached through one
 * access point that pins POSIX identity 1000:1000. The aggregate function mounts it
 * read-write (it is the single writer); the API mounts it with ClientMount only, which EFS
 * enforces as read-only because the file system policy grants nothing by itself.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { InfraConfig } from '../config';
import type { FunctionMount } from '../constructs/stage-function';
import { removalPolicyFor } from './stage-policies';

export interface StorageStackProps extends StackProps {
  readonly config: InfraConfig;
  readonly vpc: ec2.IVpc;
  readonly privateSubnets: ec2.SubnetSelection;
}

/** Lambda requires EFS mount paths under /mnt. */
export const DATA_MOUNT_PATH = '/mnt/data';
export const SQLITE_PATH = `${DATA_MOUNT_PATH}/market.db`;
export const POSIX_ID = '1000';

/**
 * A Lambda mount of one access point whose IAM grant is scoped to the file system and
 * that access point; `write: false` leaves out elasticfilesystem:ClientWrite.
 */
class AccessPointMount extends lambda.FileSystem {
  constructor(fileSystem: efs.FileSystem, accessPoint: efs.AccessPoint, write: boolean) {
    super({
      localMountPath: DATA_MOUNT_PATH,
      arn: accessPoint.accessPointArn,
      dependency: [fileSystem.mountTargetsAvailable],
      connections: fileSystem.connections,
      policies: [
        new iam.PolicyStatement({
          actions: write ? ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'] : ['elasticfilesystem:ClientMount'],
          resources: [fileSystem.fileSystemArn],
          conditions: { StringEquals: { 'elasticfilesystem:AccessPointArn': accessPoint.accessPointArn } },
        }),
      ],
    });
  }
}

export class StorageStack extends Stack {
  readonly fileSystem: efs.FileSystem;
  readonly accessPoint: efs.AccessPoint;

  constructor(scope: Construct, id: string, props: StorageStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.fileSystem = new efs.FileSystem(this, 'file-system', {
      vpc: props.vpc,
      vpcSubnets: props.privateSubnets,
      encrypted: true,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: efs.ThroughputMode.ELASTIC,
      enableAutomaticBackups: config.stage === 'prod',
      removalPolicy: removalPolicyFor(config.stage),
      // With a policy present EFS authorizes each client by IAM. This one only refuses
      // plaintext; it grants nothing, so each role gets exactly what its identity policy
      // says (ClientMount alone = read-only). CDK's "deny anonymous" default would instead
      // grant ClientWrite to every client, read-only ones included, hence opting out of it.
      allowAnonymousAccess: true,
      fileSystemPolicy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'DenyUnencryptedTransport',
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite', 'elasticfilesystem:ClientRootAccess'],
            conditions: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ],
      }),
    });
    this.accessPoint = this.fileSystem.addAccessPoint('sqlite-access-point', {
      path: '/market-data',
      posixUser: { uid: POSIX_ID, gid: POSIX_ID },
      createAcl: { ownerUid: POSIX_ID, ownerGid: POSIX_ID, permissions: '750' },
    });
  }

  /** The single writer's mount (aggregate); also sets SQLITE_PATH. */
  readWriteMount(): FunctionMount {
    return { fileSystem: new AccessPointMount(this.fileSystem, this.accessPoint, true), environment: { SQLITE_PATH } };
  }

  /** A reader's mount (api): no ClientWrite, so EFS refuses writes; also sets SQLITE_PATH. */
  readOnlyMount(): FunctionMount {
    return { fileSystem: new AccessPointMount(this.fileSystem, this.accessPoint, false), environment: { SQLITE_PATH } };
  }
}
