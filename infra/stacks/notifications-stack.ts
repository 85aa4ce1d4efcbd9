/**
 * Notifications: the standard SNS topic signals fan out through (standard, because FIFO
 * topics deliver only to SQS), encrypted with a customer managed key and refusing
 * non-TLS publishes. Subscriptions with filter policies are created at run time through
 * the API; an optional first email subscription comes from context.
 */
import { ArnFormat, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { InfraConfig } from '../config';
import type { StageFunction } from '../constructs/stage-function';
import { acknowledgeNag } from '../nag';
import { removalPolicyFor } from './stage-policies';

export interface NotificationsStackProps extends StackProps {
  readonly config: InfraConfig;
}

export class NotificationsStack extends Stack {
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  readonly topicName: string;

  constructor(scope: Construct, id: string, props: NotificationsStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.topicName = `${config.prefix}-signals`;
    this.topicKey = new kms.Key(this, 'signal-topic-key', {
      description: `${config.prefix}: encrypts the signals topic`,
      alias: `alias/${config.prefix}/signals`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(config.stage === 'prod' ? 30 : 7),
      removalPolicy: removalPolicyFor(config.stage),
    });
    this.topic = new sns.Topic(this, 'signal-topic', {
      // A fixed name makes subscription ARNs (topic ARN + ":<id>") predictable for IAM.
      topicName: this.topicName,
      displayName: `${config.project} ${config.stage} trading signals`,
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    if (config.signalEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(config.signalEmail));
    new CfnOutput(this, 'SignalTopicArn', { value: this.topic.topicArn, description: 'SNS topic that trading signals are published to' });
  }

  /** notify: sns:Publish on the topic, the data key it needs, and SIGNAL_TOPIC_ARN. */
  grantSignalTopicPublish(fn: StageFunction): void {
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'PublishSignals', actions: ['sns:Publish'], resources: [this.topic.topicArn] }));
    this.grantTopicKey(fn);
    fn.addEnvironment('SIGNAL_TOPIC_ARN', this.topic.topicArn);
  }

  /** api: manage subscriptions (with filter policies) on this topic only, and SIGNAL_TOPIC_ARN. */
  grantSignalTopicSubscriptions(fn: StageFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ManageSignalTopic',
        actions: ['sns:Subscribe', 'sns:ListSubscriptionsByTopic'],
        resources: [this.topic.topicArn],
      }),
    );
    // Built from the topic name rather than imported, so the pattern reads the same in every stack.
    const subscriptionArns = Stack.of(fn).formatArn({ service: 'sns', resource: this.topicName, resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ManageSignalSubscriptions',
        actions: ['sns:Unsubscribe', 'sns:GetSubscriptionAttributes', 'sns:SetSubscriptionAttributes'],
        // Subscription ARNs are the topic ARN plus ":<id>"; the topic ARN covers callers authorized against the topic.
        resources: [this.topic.topicArn, subscriptionArns],
      }),
    );
    if (fn.role) {
      acknowledgeNag(
        fn.role,
        'AwsSolutions-IAM5',
        'Subscriptions are created at run time (POST /subscriptions), so their ids are unknown at deploy time; the pattern is limited to subscriptions of the signals topic.',
        [`Resource::arn:<AWS::Partition>:sns:<AWS::Region>:<AWS::AccountId>:${this.topicName}:*`],
      );
    }
    fn.addEnvironment('SIGNAL_TOPIC_ARN', this.topic.topicArn);
  }

  private grantTopicKey(fn: StageFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SignalTopicKey',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.topicKey.keyArn],
      }),
    );
  }
}
