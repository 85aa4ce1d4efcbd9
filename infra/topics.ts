/**
 * The Kafka topics the pipeline needs, with the settings they are created with.
 * Names come from shared/config so producers, consumers and infra agree.
 */
import { TOPICS, type TopicName } from '../shared/config';

export interface TopicSpec {
  readonly name: TopicName;
  readonly partitions: number;
  /** Topic-level configs. MSK Serverless accepts cleanup.policy only at creation time. */
  readonly configs: Readonly<Record<string, string>>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Every topic gets the same partition count: the pipeline keys every topic by symbol,
 * and equal counts keep a symbol's records on the same partition number end to end.
 */
export function topicSpecs(partitions: number): TopicSpec[] {
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`partitions must be a positive integer, got ${partitions}`);
  const retention = (days: number) => ({ 'retention.ms': String(days * DAY_MS) });
  return [
    { name: TOPICS.ticks, partitions, configs: retention(7) },
    { name: TOPICS.indicators, partitions, configs: retention(7) },
    // Signals and events feed the SQLite history; a longer window allows a rebuild from Kafka.
    { name: TOPICS.signals, partitions, configs: retention(30) },
    { name: TOPICS.events, partitions, configs: retention(30) },
    { name: TOPICS.deadLetter, partitions, configs: retention(14) },
    // Durable copy of per-symbol state: compaction keeps the latest record per key forever.
    { name: TOPICS.stateChangelog, partitions, configs: { 'cleanup.policy': 'compact' } },
  ];
}
