/**
 * cdk-nag v3 reports through CDK's policy-validation plugins and is silenced with
 * `Validations.of(construct).acknowledge(...)`. A finding-level id (`Rule[finding]`) only
 * silences that one finding, so acknowledgments stay as narrow as the old `appliesTo`.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges `ruleId` on `scope` (and its children), or only the listed findings of it. */
export function acknowledgeNag(scope: IConstruct, ruleId: string, reason: string, findings?: readonly string[]): void {
  if (findings === undefined) {
    Validations.of(scope).acknowledge({ id: ruleId, reason });
    return;
  }
  for (const finding of findings) Validations.of(scope).acknowledge({ id: `${ruleId}[${finding}]`, reason });
}

/** The finding cdk-nag's IAM4 reports for an AWS managed policy attached to a role. */
export const managedPolicyFinding = (name: string) => `Policy::arn:<AWS::Partition>:iam::aws:policy/${name}`;
