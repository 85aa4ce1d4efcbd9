/** The command itself, as a user runs it (one process per case, so only a few cases). */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'generate-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function generate(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'cli/generate.ts', ...args], { encoding: 'utf8', env: { ...process.env, API_URL: '', PORT: '' } });
}

describe('npm run generate', () => {
  it('bad options: a clear usage error on stderr and exit code 2', () => {
    const res = generate('--count', '12x', '--out', join(dir, 'x.csv'));
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('generate: --count must be a positive integer, got "12x"');
    expect(res.stderr).toContain('--help');
  });

  it('--out writes the replay CSV, byte-identical for the same seed, with typed records alongside', () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    const args = ['--count', '3000', '--timeframe', '1m', '--scenario', 'volatile', '--seed', '11', '--typed-share', '0.2'];
    const first = generate(...args, '--out', a);
    expect(first.status).toBe(0);
    expect(generate(...args, '--out', b).status).toBe(0);
    const text = readFileSync(a, 'utf8');
    expect(text).toBe(readFileSync(b, 'utf8'));
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('symbol,timestamp,open,high,low,close,volume');
    expect(lines).toHaveLength(3001);
    // 20 % of all output is typed: 3000 price records → 750 typed ones.
    expect(readFileSync(a.replace(/\.csv$/, '.typed.jsonl'), 'utf8').trim().split('\n')).toHaveLength(750);
    expect(first.stdout).toMatch(/sent\s+3000\n\s+accepted\s+3000\n\s+rejected\s+0\n\s+retries\s+0\n\s+rate\s+\d+ records\/s/);
    expect(first.stdout).toContain('typed     sent 750, accepted 750');
  });

  it('--replay refuses a file with bad rows, listing them by line', () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(file, 'symbol,timestamp,open,high,low,close,volume\nAAPL,1704205800000,10,11,9,10.5,1\nAAPL,1704205860000,10,9,9,10.5,1\n');
    const res = generate('--replay', file);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`${file}:3: high (9) must be >= max(open, close) (10.5)`);
  });
});
