/**
 * Observability: alarms on function errors, Kafka offset lag, failed-batch queue depth and
 * API 5xx, all notifying an encrypted alarm topic; and one CloudWatch dashboard for the
 * whole pipeline.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { InfraConfig } from '../config';
import type { ApiStack } from './api-stack';
import type { CacheStack } from './cache-stack';
import type { ConsumerName, FunctionName, FunctionsStack } from './functions-stack';
import { removalPolicyFor } from './stage-policies';

export interface ObservabilityStackProps extends StackProps {
  readonly config: InfraConfig;
  readonly functions: FunctionsStack;
  readonly api: ApiStack;
  readonly cache: CacheStack;
}

/** Records a consumer may trail its topic by before someone should look. */
export const OFFSET_LAG_THRESHOLD = 10_000;
/** Bad input never yields a 5xx by design, so a handful in five minutes is already a fault. */
export const API_5XX_THRESHOLD = 5;

export class ObservabilityStack extends Stack {
  readonly alarmTopic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config, functions, api, cache } = props;

    const alarmKey = new kms.Key(this, 'alarm-topic-key', {
      description: `${config.prefix}: encrypts the alarm topic`,
      alias: `alias/${config.prefix}/alarms`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(config.stage === 'prod' ? 30 : 7),
      removalPolicy: removalPolicyFor(config.stage),
    });
    // CloudWatch publishes alarm notifications itself, so it needs the data key.
    alarmKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsEncrypt',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'alarm-topic', {
      displayName: `${config.project} ${config.stage} alarms`,
      masterKey: alarmKey,
      enforceSSL: true,
    });
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    if (config.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    const notify = new SnsAction(this.alarmTopic);
    const alarm = (id: string, metric: cloudwatch.Metric, threshold: number, evaluationPeriods: number, description: string) => {
      const a = metric.createAlarm(this, id, {
        alarmName: `${config.prefix}-${id}`,
        alarmDescription: description,
        threshold,
        evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(notify);
      a.addOkAction(notify);
      this.alarms.push(a);
      return a;
    };

    const fns = Object.entries(functions.functions) as [FunctionName, FunctionsStack['functions'][FunctionName]][];
    for (const [name, fn] of fns) {
      alarm(`${name}-errors`, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), 1, 1, `${name} threw in the last 5 minutes`);
    }
    const consumerNames = [...new Set(functions.consumers.map((c) => c.function))];
    // Labels only on dashboard metrics: a labelled metric turns an alarm into a metric-math alarm.
    const offsetLag = (name: ConsumerName, label?: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName: 'OffsetLag',
        dimensionsMap: { FunctionName: functions.functions[name].functionName },
        statistic: 'Maximum',
        period: Duration.minutes(1),
        label,
      });
    for (const name of consumerNames) {
      alarm(`${name}-offset-lag`, offsetLag(name), OFFSET_LAG_THRESHOLD, 5, `${name} has trailed its Kafka topic by >= ${OFFSET_LAG_THRESHOLD} records for 5 minutes`);
    }
    const dlqDepth = (name: ConsumerName, label?: string) =>
      functions.deadLetterQueues[name].metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum', label });
    for (const name of Object.keys(functions.deadLetterQueues) as ConsumerName[]) {
      alarm(`${name}-failed-batches`, dlqDepth(name), 1, 1, `a ${name} Kafka batch exhausted its retries and was sent to the on-failure queue`);
    }
    alarm('api-5xx', api.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }), API_5XX_THRESHOLD, 1, `the HTTP API returned >= ${API_5XX_THRESHOLD} 5xx responses in 5 minutes`);

    this.dashboard = new cloudwatch.Dashboard(this, 'dashboard', { dashboardName: `${config.prefix}-pipeline` });
    const fnMetric = (label: string, get: (fn: FunctionsStack['functions'][FunctionName]) => cloudwatch.Metric) =>
      fns.map(([name, fn]) => get(fn).with({ label: `${name} ${label}` }));
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }));
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [api.api.metricCount({ period: Duration.minutes(1), statistic: 'Sum' })],
        right: [api.api.metricClientError({ period: Duration.minutes(1), statistic: 'Sum' }), api.api.metricServerError({ period: Duration.minutes(1), statistic: 'Sum' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: [api.api.metricLatency({ period: Duration.minutes(1), statistic: 'p50' }), api.api.metricLatency({ period: Duration.minutes(1), statistic: 'p99' })],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Invocations', left: fnMetric('invocations', (fn) => fn.metricInvocations({ period: Duration.minutes(1) })), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Errors and throttles', left: fnMetric('errors', (fn) => fn.metricErrors({ period: Duration.minutes(1) })), right: fnMetric('throttles', (fn) => fn.metricThrottles({ period: Duration.minutes(1) })), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Duration p99 (ms)', left: fnMetric('p99', (fn) => fn.metricDuration({ period: Duration.minutes(1), statistic: 'p99' })), width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Kafka offset lag (records)', left: consumerNames.map((n) => offsetLag(n, `${n} offset lag`)), width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Failed batches waiting', left: (Object.keys(functions.deadLetterQueues) as ConsumerName[]).map((n) => dlqDepth(n, `${n} failed batches`)), width: 12 }),
    );
    const cacheMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/ElastiCache', metricName, dimensionsMap: { clusterId: cache.cache.serverlessCacheName }, statistic, period: Duration.minutes(1) });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Valkey',
        left: [cacheMetric('ElastiCacheProcessingUnits', 'Sum')],
        right: [cacheMetric('BytesUsedForCache', 'Maximum')],
        width: 24,
      }),
    );

    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${this.dashboard.dashboardName}`,
      description: 'CloudWatch dashboard of the pipeline',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn, description: 'SNS topic alarms notify' });
  }
}
