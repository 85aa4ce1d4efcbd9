import { TOPICS, type Topics } from '../config';
import { DLQ_HEADERS } from '../adapters/kafka';
import type { DeadLetter, OutMessage } from './ports';

/**
 * A dead letter keeps the original bytes and key, and says in headers where it came
 * from and why (the same header names the event source mapping uses), so one
 * consumer can inspect both kinds and replay a record onto its source topic.
 */
export function deadLetterMessage(d: DeadLetter, topics: Topics = TOPICS): OutMessage {
  return {
    topic: topics.deadLetter,
    key: d.record.key ?? '',
    value: d.record.value,
    headers: {
      [DLQ_HEADERS.reason]: d.reason.slice(0, 1000),
      [DLQ_HEADERS.function]: d.stage,
      [DLQ_HEADERS.originalTopic]: d.record.topic,
      [DLQ_HEADERS.originalPartition]: String(d.record.partition),
      [DLQ_HEADERS.originalOffset]: String(d.record.offset),
      [DLQ_HEADERS.originalTimestamp]: String(d.record.timestamp),
    },
  };
}
