import { getStringFromEnv } from '../../shared/config';
import { createProducer, loadKafkaConfig } from '../../shared/adapters/kafka';
import { kafkaPublisher } from '../../shared/adapters/kafka-stream';
import { createRedis } from '../../shared/adapters/redis';
import { createSnsClient } from '../../shared/adapters/sns';
import { kafkaHandler } from '../../shared/pipeline/lambda';
import { notifySignals } from '../../shared/pipeline/notify';

const deps = {
  sns: createSnsClient(),
  redis: createRedis(),
  topicArn: getStringFromEnv('SIGNAL_TOPIC_ARN'),
  deadLetters: kafkaPublisher(createProducer(loadKafkaConfig())),
};

export const handler = kafkaHandler('notify', async (records) => ({ ...(await notifySignals(records, deps)) }));
