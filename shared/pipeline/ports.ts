/**
 * What the stage modules need from the outside world, as narrow interfaces, so the
 * same code runs in Lambda, in the local runtime and in tests with real local
 * services handed in.
 */

import type { DecodedKafkaRecord } from '../adapters/kafka-event';

/**
 * One Kafka record as a stage sees it, decoded from the MSK event. Its `timestamp`
 * (CREATE_TIME) is stable across redeliveries, so it is the "now" for validation.
 */
export type StreamRecord = Pick<DecodedKafkaRecord, 'topic' | 'partition' | 'offset' | 'timestamp' | 'key' | 'value' | 'headers'>;

export interface OutMessage {
  topic: string;
  key: string;
  value: string;
  headers?: Record<string, string>;
}

/** Resolves once every message is acknowledged by the broker (acks=all). */
export interface Publisher {
  publish(messages: OutMessage[]): Promise<void>;
}

/** A stream record that a stage could not apply, with the reason it goes to the dead-letter topic. */
export interface DeadLetter {
  record: StreamRecord;
  reason: string;
  stage: string;
}

/** The identifier a Kafka event source mapping expects in a partial batch response. */
export interface BatchItemFailure {
  itemIdentifier: { partition: string; offset: number };
}
