import { randomBytes } from 'node:crypto';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResult } from '../../../shared/http/response';

/** moto on localhost:4566 with its documented dummy credentials (they are not secrets). */
const aws = {
  region: 'us-east-1',
  endpoint: process.env.AWS_ENDPOINT_URL ?? 'http://localhost:4566',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};
export const MOTO_ACCOUNT = '123456789012';
export const snsClient = () => new SNSClient(aws);
export const sqsClient = () => new SQSClient(aws);

/** Redis DB 9: keeps these tests' snapshots out of a pipeline running on DB 0. */
export const TEST_REDIS_URL = 'redis://localhost:6379/9';

/** A symbol no other test or running pipeline uses: "Z" + 7 random characters. */
export function uniqueSymbol(): string {
  return `Z${randomBytes(8).toString('hex').toUpperCase().slice(0, 7)}`;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** An API Gateway HTTP API (payload 2.0) event, the way the local runtime and the cloud build it. */
export function httpEvent(
  method: string,
  pathAndQuery: string,
  opts: { headers?: Record<string, string>; body?: string; json?: unknown } = {},
): APIGatewayProxyEventV2 {
  const [rawPath = '/', rawQueryString = ''] = pathAndQuery.split(/\?(.*)/s);
  // Built like API Gateway's JSON: every parameter an own key, even "__proto__".
  const query: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of new URLSearchParams(rawQueryString)) query[k] = Object.hasOwn(query, k) ? `${query[k]},${v}` : v;
  const headers: Record<string, string> = { ...(opts.json !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers };
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    ...(rawQueryString ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: MOTO_ACCOUNT,
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: randomBytes(8).toString('hex'),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: opts.json !== undefined ? JSON.stringify(opts.json) : opts.body,
    isBase64Encoded: false,
  };
}

export function bodyOf<T = Record<string, unknown>>(r: HttpResult): T {
  return JSON.parse(r.body ?? 'null') as T;
}

export async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
