import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION } from './schema';

export type Db = Database.Database;
export type Statement<P extends unknown[] = unknown[], R = unknown> = Database.Statement<P, R>;

const statements = new WeakMap<Db, Map<string, Statement>>();

/**
 * A prepared statement cached for the life of its connection. Besides saving the
 * compile, this keeps Statement objects from ever becoming garbage: with
 * better-sqlite3 12.x on Node >= 24.19 a Statement finalized by a background GC
 * aborts the process (node::ObjectWrap's destructor CHECKs for a current
 * Environment; better-sqlite3 13 moved to node-addon-api and fixed it). So store
 * code never calls db.prepare() per request, nor db.pragma(), which prepares a
 * fresh statement on every call.
 */
export function statement<P extends unknown[] = unknown[], R = unknown>(db: Db, sql: string, mode: 'rows' | 'pluck' = 'rows'): Statement<P, R> {
  let byDb = statements.get(db);
  if (!byDb) statements.set(db, (byDb = new Map()));
  const key = `${mode}\u0000${sql}`;
  let st = byDb.get(key);
  if (!st) {
    st = db.prepare(sql);
    if (mode === 'pluck') st.pluck();
    byDb.set(key, st);
  }
  return st as Statement<P, R>;
}

export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** The writer has not created the store yet: a fresh deployment with no data, not a fault. */
export class StoreNotReadyError extends StoreError {}

/**
 * Every connection this process opens stays referenced until the process exits,
 * closed or not: dropping one would make its cached statements garbage, and
 * collecting those is what aborts the process (see statement()). Processes open
 * a handful (Lambda: one per container), so this stays small. The list hangs off
 * a core module object rather than module scope because test runners (jest) give
 * each test file its own module registry and drop it when the file ends; core
 * modules are shared by all of them.
 */
const KEPT = Symbol.for('stock-stream.store.connections');
function keepForever(db: Db): Db {
  const anchor = EventEmitter as unknown as Record<symbol, Db[] | undefined>;
  (anchor[KEPT] ??= []).push(db);
  return db;
}

/** Closes a connection (it stays referenced: see keepForever). */
export function retire(db: Db): void {
  if (db.open) db.close();
}

export interface OpenStoreOptions {
  /** The API opens the file read-only: the aggregate function is its single writer. */
  readonly?: boolean;
  /** How long a statement waits for the other side's lock before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

/**
 * Opens (and for a writer, creates and migrates) the aggregate store.
 *
 * journal_mode=DELETE, not WAL: WAL keeps its index in a shared-memory file that
 * every connection mmaps, and memory mapping is not coherent across NFS clients,
 * so on EFS (mounted by several Lambda instances) WAL can corrupt the database.
 * The classic rollback journal only needs POSIX byte-range locks, which EFS
 * (NFSv4.1) provides.
 *
 * synchronous=FULL: the transaction that writes a batch also records the Kafka
 * offsets it consumed, and the event source mapping commits those offsets once
 * the handler returns. A commit that a power loss could still undo would lose
 * that batch for good, so every commit is fsynced; the cost is paid once per
 * batch, not per row.
 */
export function openStore(path: string, opts: OpenStoreOptions = {}): Db {
  const readonly = opts.readonly ?? false;
  if (!readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    db = keepForever(new Database(path, { readonly, fileMustExist: readonly }));
  } catch (err) {
    throw new StoreError(`Cannot open SQLite store at ${path}${readonly ? ' (read-only)' : ''}: ${(err as Error).message}`, { cause: err });
  }
  try {
    // exec, not db.pragma(): see statement() above.
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? (readonly ? 2_000 : 10_000)))}`);
    if (!readonly) {
      db.exec('PRAGMA journal_mode = DELETE');
      db.exec('PRAGMA synchronous = FULL');
      migrate(db);
    } else {
      const version = schemaVersion(db);
      if (version > SCHEMA_VERSION) {
        throw new StoreError(`SQLite store at ${path} has schema version ${version}; this code understands up to ${SCHEMA_VERSION}`);
      }
    }
    return db;
  } catch (err) {
    retire(db);
    throw err instanceof StoreError ? err : new StoreError(`Cannot prepare SQLite store at ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * user_version straight from the file header (4 bytes, big-endian, at offset 60),
 * without opening a connection; 0 when the file is missing or shorter than a header.
 */
export function fileSchemaVersion(path: string): number {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(100);
    if (readSync(fd, header, 0, 100, 0) < 100 || header.toString('latin1', 0, 15) !== 'SQLite format 3') return 0;
    return header.readUInt32BE(60);
  } catch {
    return 0;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function schemaVersion(db: Db): number {
  return statement<[], number>(db, 'PRAGMA user_version', 'pluck').get() ?? 0;
}

/**
 * Applies the migrations newer than the file's user_version, each in its own
 * transaction together with the version bump, so a crash leaves either the old
 * or the new schema, never half of one.
 */
export function migrate(db: Db): number {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new StoreError(`SQLite store has schema version ${current}; this code understands up to ${SCHEMA_VERSION}`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    const sql = MIGRATIONS[v];
    if (sql === undefined) throw new StoreError(`Missing migration to schema version ${v + 1}`);
    db.transaction(() => {
      db.exec(sql);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    }).immediate();
  }
  return SCHEMA_VERSION;
}

/**
 * A lazily opened read-only handle for the API. The file may not exist yet (the
 * aggregate function creates it on its first batch), so a failed open is retried
 * on the next call instead of being cached; once open, the handle is reused.
 */
export function readOnlyStore(path: string, opts: Omit<OpenStoreOptions, 'readonly'> = {}): { get: () => Db; close: () => void } {
  let db: Db | undefined;
  return {
    get: () => {
      if (db?.open) return db;
      // Checked on the file first, so polling a store the writer has not created opens no connection.
      const onDisk = fileSchemaVersion(path);
      if (onDisk < SCHEMA_VERSION) {
        throw new StoreNotReadyError(`SQLite store at ${path} is not initialized yet (schema version ${onDisk} < ${SCHEMA_VERSION})`);
      }
      db = openStore(path, { ...opts, readonly: true });
      return db;
    },
    close: () => {
      if (db) retire(db);
      db = undefined;
    },
  };
}
