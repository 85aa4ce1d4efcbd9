import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { silentLogger } from '../../../local/runtime/logger';
import { startSupervisor, type Supervisor } from '../../../local/runtime/supervisor';
import { TestKafka, uniqueName, waitFor } from './helpers';

const tk = new TestKafka();
const dir = mkdtempSync(join(tmpdir(), 'it-supervisor-'));
let sup: Supervisor | undefined;

afterAll(async () => {
  await sup?.stop();
  await tk.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function processed(file: string): { partition: number; offset: number; value: string }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
    const [partition, offset, value] = line.split(' ');
    return { partition: Number(partition), offset: Number(offset), value: value! };
  });
}

describe('supervisor (real broker, worker processes)', () => {
  it('restarts a worker killed with SIGKILL and resumes from the committed offsets', async () => {
    const topic = await tk.createTopic('supervised', 2);
    const name = uniqueName('append');
    const out = join(dir, 'processed.txt');
    const lines: string[] = [];
    sup = startSupervisor({
      functions: [{
        name,
        handlerModule: resolve(import.meta.dirname, 'fixtures', 'append-handler.ts'),
        timeoutMs: 10_000,
        eventSources: [{ topics: [topic], batchSize: 4, maxBatchingWindowMs: 20, maxRetries: 2, startingPosition: 'TRIM_HORIZON', onFailureTopic: null }],
      }],
      env: { ...process.env, FIXTURE_OUT: out, FIXTURE_DELAY_MS: '40', RUNTIME_LOG_LEVEL: 'info' },
      restartBackoffMs: 1000,
      logger: silentLogger,
      output: (line) => lines.push(line),
    });
    const firstPid = await sup.waitUntilReady(name, 30_000);
    const groupId = `lambda-${name}-${topic}`;
    tk.trackGroup(groupId);

    const total = 80;
    await tk.produce(Array.from({ length: total }, (_, i) => ({ topic, key: `k${i % 8}`, value: String(i) })));
    await waitFor(() => processed(out).length >= 16, { what: 'some progress before the kill' });

    const exited = new Promise<void>((res) => sup!.once('exit', () => res()));
    process.kill(firstPid, 'SIGKILL');
    await exited;
    // The worker is dead and its successor not yet started: these commits are final for the first life.
    const committedAtKill = await tk.committed(groupId, topic, 2);
    const linesAtKill = processed(out).length;

    const secondPid = await sup.waitUntilReady(name, 30_000);
    expect(secondPid).not.toBe(firstPid);
    expect(sup.restarts(name)).toBe(1);
    await waitFor(() => new Set(processed(out).map((r) => r.value)).size === total, { timeoutMs: 30_000, what: 'all records processed' });

    expect(linesAtKill).toBeLessThan(total); // the kill landed mid-stream
    expect(committedAtKill.some((c) => c > 0)).toBe(true);
    const rows = processed(out);
    for (let p = 0; p < 2; p++) {
      const counts = new Map<number, number>();
      for (const r of rows.filter((x) => x.partition === p)) counts.set(r.offset, (counts.get(r.offset) ?? 0) + 1);
      // Committed before the kill: processed exactly once. At or after the committed offset: at least once (at-least-once delivery).
      for (const [offset, n] of counts) {
        if (offset < committedAtKill[p]!) expect({ offset, n }).toEqual({ offset, n: 1 });
      }
    }
    expect(lines.some((l) => l.startsWith(`[${name}] `))).toBe(true);
  }, 90_000);
});
