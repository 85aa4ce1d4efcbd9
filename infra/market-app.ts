/**
 * Composes the stage's stacks. Both the CDK entry point (infra/app.ts) and the infra tests
 * build the app through here, so what the tests check is what `cdk deploy` ships.
 */
import { type App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { InfraConfig } from './config';
import { externalKafkaConnection } from './constructs/kafka-access';
import { ApiStack } from './stacks/api-stack';
import { CacheStack } from './stacks/cache-stack';
import { FunctionsStack } from './stacks/functions-stack';
import { NetworkStack } from './stacks/network-stack';
import { NotificationsStack } from './stacks/notifications-stack';
import { ObservabilityStack } from './stacks/observability-stack';
import { StorageStack } from './stacks/storage-stack';
import { StreamStack } from './stacks/stream-stack';

export interface MarketStacks {
  readonly network: NetworkStack;
  /** Absent with kafka=external: nothing is deployed for a bring-your-own cluster. */
  readonly stream?: StreamStack;
  readonly cache: CacheStack;
  readonly storage: StorageStack;
  readonly notifications: NotificationsStack;
  readonly functions: FunctionsStack;
  readonly api: ApiStack;
  readonly observability: ObservabilityStack;
}

/**
 * Environment-agnostic stacks (no account/region baked in): synthesis needs no AWS
 * credentials or context lookups, and `cdk deploy` targets whatever the CLI's profile says.
 */
export function buildMarketApp(app: App, config: InfraConfig): MarketStacks {
  const id = (name: string) => `${config.prefix}-${name}`;
  const description = (what: string) => `${config.project} (${config.stage}): ${what}`;

  const network = new NetworkStack(app, id('network'), { config, description: description('VPC, endpoints, flow logs, log key') });
  const shared = { config, vpc: network.vpc, privateSubnets: network.privateSubnets };
  const stream =
    config.kafka.mode === 'external'
      ? undefined
      : new StreamStack(app, id('stream'), { ...shared, logKey: network.logKey, description: description(`Kafka (MSK ${config.kafka.mode}) and topics`) });
  const cache = new CacheStack(app, id('cache'), { ...shared, description: description('ElastiCache Serverless (Valkey)') });
  const storage = new StorageStack(app, id('storage'), { ...shared, description: description('EFS for the SQLite history') });
  const notifications = new NotificationsStack(app, id('notifications'), { config, description: description('SNS signal topic') });
  const functions = new FunctionsStack(app, id('functions'), {
    ...shared,
    logKey: network.logKey,
    kafka: stream?.kafka ?? externalKafkaConnection(config),
    cache,
    storage,
    notifications,
    description: description('Lambda functions and Kafka event source mappings'),
  });
  const api = new ApiStack(app, id('api'), {
    config,
    logKey: network.logKey,
    targets: { ingest: functions.functions.ingest, api: functions.functions.api },
    description: description('HTTP API, authorizer'),
  });
  const observability = new ObservabilityStack(app, id('observability'), { config, functions, api, cache, description: description('alarms and dashboard') });

  // Cost allocation: activate these keys once in the Billing console to split the bill.
  Tags.of(app).add('project', config.project);
  Tags.of(app).add('stage', config.stage);
  Tags.of(app).add('managed-by', 'cdk');
  if (config.costCenter) Tags.of(app).add('cost-center', config.costCenter);

  return { network, stream, cache, storage, notifications, functions, api, observability };
}

/** cdk-nag's AwsSolutions pack as a policy-validation plugin: any unacknowledged finding fails synthesis. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
