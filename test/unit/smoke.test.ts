import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
describe('toolchain', () => {
  it('runs on Node 24 with a native sqlite', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
    const db = new Database(':memory:');
    expect(db.prepare('select 1 + 1 as v').get()).toEqual({ v: 2 });
  });
});
