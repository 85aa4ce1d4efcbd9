import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { createLogger } from '../logger';
import { decodeKafkaRecords, type KafkaBatchResponse } from '../adapters/kafka-event';
import type { BatchItemFailure, StreamRecord } from './ports';

/**
 * The wrapper every Kafka-triggered handler shares: structured logs with the Lambda
 * context, the MSK event decoded into records in partition order, and the stage's
 * result mapped to a partial batch response. A thrown error fails the whole batch,
 * which the event source mapping retries — the recovery path for transient faults.
 */
export function kafkaHandler(
  stage: string,
  run: (records: StreamRecord[]) => Promise<{ batchItemFailures?: BatchItemFailure[] } & Record<string, unknown>>,
) {
  const logger = createLogger(stage);
  return middy(async (event: unknown, _context: Context): Promise<KafkaBatchResponse> => {
    const records = decodeKafkaRecords(event);
    const started = Date.now();
    const result = await run(records);
    const { batchItemFailures = [], ...summary } = result;
    logger.info('batch done', { records: records.length, ms: Date.now() - started, failures: batchItemFailures.length, ...summarize(summary) });
    return { batchItemFailures };
  }).use(injectLambdaContext(logger));
}

function summarize(o: Record<string, unknown>): Record<string, unknown> {
  // Arrays of ids can be long; the log keeps their size.
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? v.length : v]));
}
