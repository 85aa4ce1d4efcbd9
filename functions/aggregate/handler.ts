import { batchResponse, decodeKafkaRecords, type KafkaBatchResponse } from '../../shared/adapters/kafka-event';
import { createProducer, loadKafkaConfig, type KafkaProducer } from '../../shared/adapters/kafka';
import { kafkaPublisher } from '../../shared/adapters/kafka-stream';
import { getStringFromEnv } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import type { Publisher } from '../../shared/pipeline/ports';
import { openStore, type Db } from '../../shared/store/db';
import { aggregateRecords } from '../../shared/store/stage';

/**
 * aggregate: market.ticks, market.signals and market.events → SQLite (the single
 * writer; reserved concurrency 1). One transaction per batch, offsets included, so
 * redelivery changes nothing. Records that fail validation go to market.dlq.
 */

const log = createLogger('aggregate');
const sqlitePath = getStringFromEnv('SQLITE_PATH', { default: `${getStringFromEnv('DATA_DIR', { default: '.local/data' })}/market.db` });

// Opened on first use and kept across invocations of a warm container.
let db: Db | undefined;
let producer: KafkaProducer | undefined;

/** The producer connects only when a batch actually has dead letters. */
const deadLetters: Publisher = {
  async publish(messages) {
    if (!messages.length) return;
    producer ??= createProducer(loadKafkaConfig());
    await kafkaPublisher(producer).publish(messages);
  },
};

export const handler = async (event: unknown): Promise<KafkaBatchResponse> => {
  const records = decodeKafkaRecords(event);
  db ??= openStore(sqlitePath);
  const result = await aggregateRecords(records, { db, publisher: deadLetters });
  log.info('batch applied', { records: records.length, applied: result.applied, skipped: result.skipped, rejected: result.rejected.length });
  return batchResponse([]);
};
