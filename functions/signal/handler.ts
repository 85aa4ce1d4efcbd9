import { createProducer, loadKafkaConfig } from '../../shared/adapters/kafka';
import { changelogReader, kafkaPublisher } from '../../shared/adapters/kafka-stream';
import { createRedis } from '../../shared/adapters/redis';
import { kafkaHandler } from '../../shared/pipeline/lambda';
import { evaluateSignals } from '../../shared/pipeline/signal';
import { loadRulesConfig } from '../../shared/pipeline/stage-config';

const kafka = loadKafkaConfig();
const deps = {
  redis: createRedis(),
  publisher: kafkaPublisher(createProducer(kafka)),
  readChangelog: changelogReader(kafka),
  rules: loadRulesConfig(),
};

export const handler = kafkaHandler('signal', async (records) => ({ ...(await evaluateSignals(records, deps)) }));
