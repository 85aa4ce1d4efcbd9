import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * AWS SDK clients. The SDK reads AWS_ENDPOINT_URL itself, which is how the same code
 * talks to moto locally; region and credentials come from the usual provider chain.
 */
// Without timeouts a hung endpoint stalls a batch until the Lambda times out; failing
// fast lets the event source mapping's retry (the recovery path) take over.
// throwOnRequestTimeout: without it @smithy/node-http-handler 4.x only logs a warning when
// requestTimeout passes and the request keeps waiting.
const requestHandler = { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true };

export function createSnsClient(): SNSClient {
  return new SNSClient({ maxAttempts: 3, requestHandler });
}

export function createSqsClient(): SQSClient {
  return new SQSClient({ maxAttempts: 3, requestHandler });
}
