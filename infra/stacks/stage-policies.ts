/** Choices that differ between dev and prod, kept in one place so stacks agree. */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { InfraConfig, Stage } from '../config';

/** dev is disposable; prod keeps data (and keys, file systems, user pools) when a stack goes. */
export function removalPolicyFor(stage: Stage): RemovalPolicy {
  return stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

/** config.logRetentionDays is validated against the values CloudWatch Logs accepts, which are the enum's values. */
export function retentionFor(config: InfraConfig): logs.RetentionDays {
  return config.logRetentionDays as logs.RetentionDays;
}
