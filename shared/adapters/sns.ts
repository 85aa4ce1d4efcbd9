import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * AWS SDK clients. The SDK reads AWS_ENDPOINT_URL itself, which is how the same code
 * talks to moto locally; region and credentials come from the usual provider chain.
 */
// Without timeouts a hung endpoint stalls a batch until the Lambda times out; failing
// fast lets the event source mapping's retry (the recovery path) take over.
const requestHandler = { connectionTimeout: 3_000, requestTimeout: 10_000 };

export function createSnsClient(): SNSClient {
  return new SNSClient({ maxAttempts: 3, requestHandler });
}

export function createSqsClient(): SQSClient {
  return new SQSClient({ maxAttempts: 3, requestHandler });
}
