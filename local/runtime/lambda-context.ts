/**
 * What the Lambda Node.js runtime gives a handler besides the event: the context
 * object and a bounded invocation. Shared by the Kafka and HTTP emulators.
 */
import { randomUUID } from 'node:crypto';

export interface LambdaContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

export class HandlerTimeoutError extends Error {
  constructor(functionName: string, timeoutMs: number) {
    super(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds (${functionName})`);
    this.name = 'Sandbox.Timedout';
  }
}

export function createLambdaContext(functionName: string, timeoutMs: number, region = process.env.AWS_REGION ?? 'us-east-1'): LambdaContext {
  const deadline = Date.now() + timeoutMs;
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${process.pid}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** Runs a handler like the Lambda runtime: sync or async, bounded by the function timeout. */
export async function invokeWithTimeout<E>(
  handler: (event: E, ctx: LambdaContext) => unknown,
  event: E,
  functionName: string,
  timeoutMs: number,
  onTimeout?: (err: HandlerTimeoutError) => void,
): Promise<unknown> {
  const ctx = createLambdaContext(functionName, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new HandlerTimeoutError(functionName, timeoutMs);
      onTimeout?.(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => handler(event, ctx)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
