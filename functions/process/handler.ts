import { createProducer, loadKafkaConfig } from '../../shared/adapters/kafka';
import { changelogReader, kafkaPublisher } from '../../shared/adapters/kafka-stream';
import { createRedis } from '../../shared/adapters/redis';
import { kafkaHandler } from '../../shared/pipeline/lambda';
import { processTicks } from '../../shared/pipeline/process';
import { loadEngineConfig } from '../../shared/pipeline/stage-config';

// Created once per cold start and reused by every invocation.
const kafka = loadKafkaConfig();
const deps = {
  redis: createRedis(),
  publisher: kafkaPublisher(createProducer(kafka)),
  readChangelog: changelogReader(kafka),
  engine: loadEngineConfig(),
};

export const handler = kafkaHandler('process', async (records) => ({ ...(await processTicks(records, deps)) }));
