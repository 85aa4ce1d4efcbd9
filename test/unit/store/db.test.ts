import { afterAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyBatch } from '../../../shared/store/aggregate';
import { openStore, readOnlyStore, schemaVersion, statement, StoreError } from '../../../shared/store/db';
import { SCHEMA_VERSION } from '../../../shared/store/schema';
import { openKept, tempDir, tickRecord, T0 } from './helpers';

const tmp = tempDir('db-');
afterAll(() => tmp.cleanup());

describe('openStore', () => {
  it('creates the file with rollback journaling, full sync and the current schema', () => {
    const path = join(tmp.dir, 'nested', 'dir', 'market.db');
    const db = openKept(path);
    expect(statement(db, 'PRAGMA journal_mode', 'pluck').get()).toBe('delete');
    // 2 = FULL
    expect(statement(db, 'PRAGMA synchronous', 'pluck').get()).toBe(2);
    expect(statement(db, 'PRAGMA busy_timeout', 'pluck').get()).toBeGreaterThan(0);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('reopens an existing store without re-running migrations or losing rows', () => {
    const path = tmp.file();
    const a = openKept(path);
    applyBatch(a, [tickRecord(0, { ts: T0, p: 10, v: 1 })]);
    a.close();
    const b = openKept(path);
    expect(schemaVersion(b)).toBe(SCHEMA_VERSION);
    expect(statement(b, 'SELECT count(*) AS n FROM bars').get()).toEqual({ n: 4 });
    b.close();
  });

  it('opens read-only: reads work, writes are refused', () => {
    const path = tmp.file();
    openKept(path).close();
    const ro = openKept(path, { readonly: true });
    expect(statement(ro, 'SELECT count(*) AS n FROM bars').get()).toEqual({ n: 0 });
    expect(() => statement(ro, "INSERT INTO symbols VALUES ('X', 1, 1, 1, 0, 0)").run()).toThrow(/readonly/);
    ro.close();
  });

  it('fails with a clear StoreError when a read-only store does not exist', () => {
    expect(() => openStore(join(tmp.dir, 'missing.db'), { readonly: true })).toThrow(StoreError);
    expect(() => openStore(join(tmp.dir, 'missing.db'), { readonly: true })).toThrow(/Cannot open SQLite store at .*missing\.db \(read-only\)/);
  });

  it('refuses a file that is not a database', () => {
    const path = join(tmp.dir, 'garbage.db');
    writeFileSync(path, 'this is not sqlite'.repeat(100));
    expect(() => openStore(path)).toThrow(StoreError);
  });

  it('refuses a schema newer than the code', () => {
    const path = tmp.file();
    const db = openKept(path);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openStore(path)).toThrow(/schema version/);
    expect(() => openStore(path, { readonly: true })).toThrow(/schema version/);
  });
});

describe('readOnlyStore', () => {
  it('retries until the writer has created and migrated the file, then reuses the handle', () => {
    const path = join(tmp.dir, 'later.db');
    const store = readOnlyStore(path);
    expect(() => store.get()).toThrow(StoreError);
    openKept(path).close();
    const first = store.get();
    expect(store.get()).toBe(first);
    openKept(path, { readonly: true }).close();
  });
});
