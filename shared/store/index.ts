export { openStore, readOnlyStore, retire, statement, fileSchemaVersion, migrate, schemaVersion, StoreError, type Db, type OpenStoreOptions, type Statement } from './db';
export { SCHEMA_VERSION } from './schema';
export { INTERVALS, INTERVAL_MS, intervalStart, isInterval, type Interval } from './intervals';
export { decodeBatch, decodeRecord, publishedSignalSchema, type DecodedBatch, type StreamRecordInput, type PublishedSignal } from './decode';
export { applyBatch, pendingRejects, consumedOffsets, DEFAULT_CONSUMER, type ApplyOptions, type ApplyResult, type Reject } from './aggregate';
export * from './queries';
