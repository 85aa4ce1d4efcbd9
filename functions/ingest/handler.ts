import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createProducer, loadKafkaConfig } from '../../shared/adapters/kafka';
import { kafkaPublisher } from '../../shared/adapters/kafka-stream';
import { httpError } from '../../shared/http/response';
import { createLogger } from '../../shared/logger';
import { ingestSeedRecord, ingestTicks } from '../../shared/pipeline/ingest';

const logger = createLogger('ingest');
const deps = { publisher: kafkaPublisher(createProducer(loadKafkaConfig())) };

export const handler = middy(async (event: APIGatewayProxyEventV2) => {
  const route = event.routeKey;
  const res =
    route === 'POST /ticks' ? await ingestTicks(event, deps)
    : route === 'POST /ingest' ? await ingestSeedRecord(event, deps)
    : httpError(404, 'not_found', `No route ${route}`);
  if (res.statusCode >= 500) logger.error('ingest failed', { route, status: res.statusCode, body: res.body });
  return res;
}).use(injectLambdaContext(logger));
