import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * AWS SDK clients. The SDK reads AWS_ENDPOINT_URL itself, which is how the same code
 * talks to moto locally; region and credentials come from the usual provider chain.
 */
export function createSnsClient(): SNSClient {
  return new SNSClient({ maxAttempts: 5 });
}

export function createSqsClient(): SQSClient {
  return new SQSClient({ maxAttempts: 5 });
}
