import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { applyBatch } from '../../../shared/store/aggregate';
import { dump, openKept, signalRecord, T0, tempDir, tickRecord } from './helpers';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const tmp = tempDir('crash-');
afterAll(() => tmp.cleanup());
const open = (path: string) => openKept(path);

describe('a process killed with SIGKILL mid-transaction', () => {
  it('leaves the store as it was, and the redelivered batch gives the clean result', () => {
    // Enough rows that SQLite has written pages and a journal before the kill.
    const records = [
      ...Array.from({ length: 3000 }, (_, i) => tickRecord(i, { symbol: `S${i % 50}`, ts: T0 + i * 1000, p: 100 + (i % 17) * 0.1, v: 1 + (i % 5) })),
      signalRecord(0, { id: 'S1:rsi:1', barTime: T0 }),
    ];
    const warmup = records.slice(0, 100);
    const batch = records.slice(50);

    const clean = open(tmp.file());
    applyBatch(clean, warmup);
    applyBatch(clean, batch);

    const path = tmp.file();
    const db = open(path);
    applyBatch(db, warmup);
    const before = dump(db);
    db.close();

    const batchFile = join(tmp.dir, 'batch.json');
    writeFileSync(batchFile, JSON.stringify(batch));
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/unit/store/fixtures/crash-child.ts'), path, batchFile], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.stderr).not.toMatch(/Error/);
    expect(child.signal).toBe('SIGKILL');
    // The kill left a hot rollback journal: the next open must roll the half-written transaction back.
    expect(existsSync(`${path}-journal`)).toBe(true);

    const after = open(path);
    expect(dump(after)).toEqual(before);
    applyBatch(after, batch);
    // updated_at differs between the two runs; everything else must be identical.
    const strip = (d: Record<string, unknown[]>) => ({ ...d, consumer_offsets: d.consumer_offsets!.map((r) => ({ ...(r as object), updated_at: 0 })) });
    expect(strip(dump(after))).toEqual(strip(dump(clean)));
  });
});
