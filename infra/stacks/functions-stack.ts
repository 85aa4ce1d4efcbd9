/**
 * Functions: the six pipeline Lambdas, their Kafka event source mappings, and the encrypted
 * SQS queues that receive batches an event source mapping gives up on. Every grant sets the
 * environment variable that names the resource, so the wiring below doubles as the
 * pipeline's contract (see docs/deploy.md).
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TOPICS, type TopicName } from '../../shared/config';
import type { InfraConfig } from '../config';
import { KafkaAccess, type KafkaConnection } from '../constructs/kafka-access';
import { type FunctionMount, StageFunction, type StageFunctionProps } from '../constructs/stage-function';
import { acknowledgeNag } from '../nag';
import type { CacheStack } from './cache-stack';
import type { NotificationsStack } from './notifications-stack';
import { removalPolicyFor, retentionFor } from './stage-policies';
import type { StorageStack } from './storage-stack';

export interface FunctionsStackProps extends StackProps {
  readonly config: InfraConfig;
  readonly vpc: ec2.IVpc;
  readonly privateSubnets: ec2.SubnetSelection;
  readonly logKey: kms.IKey;
  readonly kafka: KafkaConnection;
  readonly cache: CacheStack;
  readonly storage: StorageStack;
  readonly notifications: NotificationsStack;
}

export type FunctionName = 'ingest' | 'process' | 'signal' | 'notify' | 'aggregate' | 'api';
export type ConsumerName = Exclude<FunctionName, 'ingest' | 'api'>;

/** One Kafka trigger: which function reads which topic, as which consumer group. */
export interface Consumer {
  readonly function: ConsumerName;
  readonly topic: TopicName;
  readonly consumerGroupId: string;
}

/**
 * Retries before a batch goes to the on-failure queue. Handlers are idempotent, so retries
 * are safe; the bound keeps one poison batch from holding a partition for hours.
 */
export const KAFKA_RETRY_ATTEMPTS = 10;

/**
 * The dashboard is served by the api function (GET / and /assets/*) from `dist` beside
 * the handler, where web/static.ts looks in an ESM bundle.
 */
export const DASHBOARD_FILES = { build: 'node --import tsx web/build.ts --quiet', from: 'web/dist', to: 'dist' } as const;

export class FunctionsStack extends Stack {
  readonly functions: Record<FunctionName, StageFunction>;
  readonly deadLetterQueues: Record<ConsumerName, sqs.Queue>;
  readonly consumers: Consumer[] = [];

  constructor(scope: Construct, id: string, props: FunctionsStackProps) {
    super(scope, id, props);
    const { config, cache, storage, notifications } = props;
    const kafka = new KafkaAccess(this, props.kafka, {
      minimumPollers: config.kafka.minPollers,
      maximumPollers: config.kafka.maxPollers,
      pollerGroupName: `${config.prefix}-pollers`,
    });
    const removalPolicy = removalPolicyFor(config.stage);

    const make = (name: FunctionName, description: string, extra: { memorySize?: number; timeout?: Duration; reservedConcurrentExecutions?: number; mount?: FunctionMount; nativeModules?: string[]; environment?: Record<string, string>; secretsExtension?: boolean; bundledFiles?: StageFunctionProps['bundledFiles'] } = {}) =>
      new StageFunction(this, name, {
        entry: `functions/${name}/handler.ts`,
        description: `${config.prefix} ${name}: ${description}`,
        vpc: props.vpc,
        subnets: props.privateSubnets,
        logKey: props.logKey,
        logRetention: retentionFor(config),
        removalPolicy,
        ...extra,
      });

    const sqliteModules = ['better-sqlite3'];
    // Producers of an external cluster read its SCRAM secret through the secrets extension.
    const secretsExtension = props.kafka.secretArn !== undefined;
    this.functions = {
      ingest: make('ingest', 'validates HTTP ticks and produces them to Kafka', { timeout: Duration.seconds(15), secretsExtension }),
      process: make('process', 'builds bars and indicators from ticks', {
        secretsExtension,
        memorySize: 1024,
        timeout: Duration.seconds(60),
        environment: {
          TIMEFRAME: config.pipeline.timeframe,
          MA_PERIOD: String(config.pipeline.maPeriod),
          EMA_PERIOD: String(config.pipeline.emaPeriod),
          RSI_PERIOD: String(config.pipeline.rsiPeriod),
        },
      }),
      signal: make('signal', 'evaluates signal rules on closed bars', {
        secretsExtension,
        timeout: Duration.seconds(60),
        environment: config.pipeline.rulesJson ? { RULES_JSON: config.pipeline.rulesJson } : {},
      }),
      notify: make('notify', 'publishes signals to SNS once per id', { timeout: Duration.seconds(60) }),
      aggregate: make('aggregate', 'single writer of the SQLite history on EFS', {
        memorySize: 1024,
        timeout: Duration.seconds(120),
        // SQLite on NFS cannot use WAL; one writer at a time is what keeps it consistent.
        reservedConcurrentExecutions: 1,
        mount: storage.readWriteMount(),
        nativeModules: sqliteModules,
      }),
      api: make('api', 'query API, subscriptions and dashboard', {
        timeout: Duration.seconds(15),
        mount: storage.readOnlyMount(),
        nativeModules: sqliteModules,
        bundledFiles: DASHBOARD_FILES,
      }),
    };
    const { ingest, process, signal, notify, api } = this.functions;

    this.deadLetterQueues = {
      process: this.deadLetterQueue('process', removalPolicy),
      signal: this.deadLetterQueue('signal', removalPolicy),
      notify: this.deadLetterQueue('notify', removalPolicy),
      aggregate: this.deadLetterQueue('aggregate', removalPolicy),
    };

    const subscribe = (name: ConsumerName, topic: TopicName, groupSuffix: string, batchSize: number, windowSeconds: number) => {
      const consumerGroupId = `${config.prefix}.${groupSuffix}`;
      kafka.subscribe(this.functions[name], {
        topic,
        consumerGroupId,
        batchSize,
        maxBatchingWindow: Duration.seconds(windowSeconds),
        onFailure: this.deadLetterQueues[name],
        retryAttempts: KAFKA_RETRY_ATTEMPTS,
      });
      this.consumers.push({ function: name, topic, consumerGroupId });
    };

    kafka.grantProduce(ingest, [TOPICS.ticks, TOPICS.events]);

    kafka.grantProduce(process, [TOPICS.indicators, TOPICS.deadLetter, TOPICS.stateChangelog]);
    subscribe('process', TOPICS.ticks, 'process', 500, 1);
    cache.grantConnect(process);

    kafka.grantProduce(signal, [TOPICS.signals, TOPICS.stateChangelog]);
    // Window 0: MSK windows are whole seconds (or the 500 ms default, which cannot be restored once changed), so any
    // window adds at least 1 s per hop; signal and notify see few records, and invoking at once costs almost nothing.
    subscribe('signal', TOPICS.indicators, 'signal', 200, 0);
    cache.grantConnect(signal);

    subscribe('notify', TOPICS.signals, 'notify', 100, 0);
    cache.grantConnect(notify);
    notifications.grantSignalTopicPublish(notify);

    // Larger batches and a longer window: every EFS write costs milliseconds, so rows are
    // batched into one transaction per invocation.
    subscribe('aggregate', TOPICS.ticks, 'aggregate.ticks', 1000, 5);
    subscribe('aggregate', TOPICS.signals, 'aggregate.signals', 500, 5);
    subscribe('aggregate', TOPICS.events, 'aggregate.events', 1000, 5);

    cache.grantConnect(api);
    notifications.grantSignalTopicSubscriptions(api);
  }

  private deadLetterQueue(name: ConsumerName, removalPolicy: ReturnType<typeof removalPolicyFor>): sqs.Queue {
    const queue = new sqs.Queue(this, `${name}-failed-batches`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    acknowledgeNag(
      queue,
      'AwsSolutions-SQS3',
      `This queue is itself the on-failure destination of the ${name} Kafka event source mappings; nothing consumes it automatically, so a queue behind it would never receive anything.`,
    );
    return queue;
  }
}
