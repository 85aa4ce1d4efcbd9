import { deadLetterMessage } from '../pipeline/dead-letter';
import type { Publisher, StreamRecord } from '../pipeline/ports';
import { applyBatch, pendingRejects, type ApplyOptions, type ApplyResult } from './aggregate';
import type { Db } from './db';
import { decodeBatch } from './decode';

export interface AggregateStageDeps {
  db: Db;
  /** Where dead letters go (market.dlq); only called when a batch holds records that fail validation. */
  publisher: Publisher;
  options?: ApplyOptions;
}

export const AGGREGATE_STAGE = 'aggregate';

/**
 * The aggregate function's whole job for one batch: dead-letter the records that
 * cannot be applied, then apply the rest in one transaction with the offsets.
 *
 * Dead letters are published (and acknowledged) before the commit. If the commit
 * then fails, the redelivered batch dead-letters them again (a harmless duplicate
 * on market.dlq); the other order could lose them, because after a commit the
 * redelivered records are skipped.
 */
export async function aggregateRecords(records: readonly StreamRecord[], deps: AggregateStageDeps): Promise<ApplyResult> {
  const batch = decodeBatch(records, deps.options?.topics);
  const rejects = pendingRejects(deps.db, batch, deps.options);
  if (rejects.length) {
    const byPosition = new Map(records.map((r) => [`${r.topic}\u0000${r.partition}\u0000${r.offset}`, r]));
    const letters = rejects.flatMap((j) => {
      const record = byPosition.get(`${j.topic}\u0000${j.partition}\u0000${j.offset}`);
      return record ? [deadLetterMessage({ record, reason: j.reason, stage: AGGREGATE_STAGE })] : [];
    });
    await deps.publisher.publish(letters);
  }
  return applyBatch(deps.db, batch, deps.options);
}
