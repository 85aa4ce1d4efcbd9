/** Reading IAM documents out of synthesized templates, for the security tests. */
import type { Template } from 'aws-cdk-lib/assertions';
import { props, resourcesOfType } from './fixtures';

export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

interface Document {
  readonly Statement: Statement[];
}

export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resourcesOf = (s: Statement): unknown[] => (s.Resource === undefined ? [] : Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/** Statements of identity policies: inline role policies, AWS::IAM::Policy and managed policies defined in the template. */
export function identityStatements(template: Template): { owner: string; statement: Statement }[] {
  const out: { owner: string; statement: Statement }[] = [];
  for (const [id, r] of resourcesOfType(template, 'AWS::IAM::Policy')) {
    for (const statement of (props(r).PolicyDocument as Document).Statement) out.push({ owner: id, statement });
  }
  for (const [id, r] of resourcesOfType(template, 'AWS::IAM::ManagedPolicy')) {
    for (const statement of (props(r).PolicyDocument as Document).Statement) out.push({ owner: id, statement });
  }
  for (const [id, r] of resourcesOfType(template, 'AWS::IAM::Role')) {
    for (const p of (props(r).Policies as { PolicyDocument: Document }[] | undefined) ?? []) {
      for (const statement of p.PolicyDocument.Statement) out.push({ owner: id, statement });
    }
  }
  return out;
}

/** Statements of resource policies: KMS key policies, SNS topic policies, SQS queue policies, EFS file system policies. */
export function resourcePolicyStatements(template: Template): { owner: string; statement: Statement }[] {
  const out: { owner: string; statement: Statement }[] = [];
  const collect = (type: string, field: string) => {
    for (const [id, r] of resourcesOfType(template, type)) {
      const doc = props(r)[field] as Document | undefined;
      for (const statement of doc?.Statement ?? []) out.push({ owner: id, statement });
    }
  };
  collect('AWS::KMS::Key', 'KeyPolicy');
  collect('AWS::SNS::TopicPolicy', 'PolicyDocument');
  collect('AWS::SQS::QueuePolicy', 'PolicyDocument');
  collect('AWS::EFS::FileSystem', 'FileSystemPolicy');
  return out;
}

/** The statements attached to a Lambda function's execution role. */
export function functionStatements(template: Template, functionLogicalId: string): Statement[] {
  const fn = template.toJSON().Resources[functionLogicalId] as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } } | undefined;
  if (!fn) throw new Error(`no function ${functionLogicalId} in template`);
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  const statements: Statement[] = [];
  for (const [, r] of resourcesOfType(template, 'AWS::IAM::Policy')) {
    const roles = props(r).Roles as { Ref: string }[];
    if (roles.some((role) => role.Ref === roleId)) statements.push(...(props(r).PolicyDocument as Document).Statement);
  }
  return statements;
}

/**
 * For MSK ARNs built by kafkaResourceArn (`{Fn::Join: ['', [prefix, ':topic/', nameAndUuid, '/market.ticks']]}`),
 * the kind and name they point at, e.g. `topic:market.ticks`.
 */
export function kafkaResourceName(resource: unknown): string | undefined {
  const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) return undefined;
  const parts = join[1];
  const kind = parts[1];
  const last = parts[parts.length - 1];
  if (typeof kind !== 'string' || typeof last !== 'string' || !/^:(topic|group)\/$/.test(kind)) return undefined;
  return `${kind.slice(1, -1)}:${last.replace(/^\//, '')}`;
}

/** The Kafka topics/groups a function's role allows `action` on, e.g. `['topic:market.ticks']`. */
export function kafkaGrants(statements: Statement[], action: string): string[] {
  return statements
    .filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action))
    .flatMap(resourcesOf)
    .map(kafkaResourceName)
    .filter((n): n is string => n !== undefined)
    .sort();
}
