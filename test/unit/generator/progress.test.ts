import { describe, expect, it } from '@jest/globals';
import { fmtDuration, Progress } from '../../../shared/generator/progress';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, write: (t: string) => void chunks.push(t), isTTY, columns: 120 };
}

describe('progress', () => {
  it('off a terminal: one status line per interval with rate, ETA and the delivery counts', () => {
    let t = 0;
    const out = stream(false);
    const p = new Progress({ stream: out, label: 'generate', total: 1000, now: () => t, lineIntervalMs: 5000 });
    t = 1000;
    p.update({ sent: 100, accepted: 100, rejected: 0, retries: 0 });
    expect(out.chunks).toEqual([]); // not yet: 1 s into a 5 s interval
    t = 5000;
    p.update({ sent: 500, accepted: 490, rejected: 10, retries: 3 });
    t = 6000;
    p.update({ sent: 600, accepted: 590, rejected: 10, retries: 3 });
    expect(out.chunks).toEqual(['generate: 500/1000 (50.0%) sent, 100 rec/s, eta 0:05, accepted 490, rejected 10, retries 3\n']);
  });

  it('on a terminal: a redrawn bar with percentage, rate and ETA, closed by finish()', () => {
    let t = 0;
    const out = stream(true);
    const p = new Progress({ stream: out, label: 'generate', total: 200, now: () => t });
    t = 2000;
    p.update({ sent: 50, accepted: 50, rejected: 0, retries: 1 });
    const line = out.chunks[0] as string;
    expect(line.startsWith('\r\x1b[2Kgenerate [')).toBe(true);
    expect(line).toContain(' 25.0% 50/200');
    expect(line).toContain('25 rec/s');
    expect(line).toContain('retries 1');
    expect(line).toContain('ETA 0:06');
    p.finish();
    expect(out.chunks.at(-1)?.endsWith('\n')).toBe(true);
  });

  it('without a known total it still shows count and rate', () => {
    let t = 0;
    const out = stream(false);
    const p = new Progress({ stream: out, label: 'generate', now: () => t, lineIntervalMs: 1000 });
    t = 2000;
    p.update({ sent: 300, accepted: 300, rejected: 0, retries: 0 });
    expect(out.chunks).toEqual(['generate: 300 sent, 150 rec/s, accepted 300, rejected 0, retries 0\n']);
  });

  it('formats durations', () => {
    expect(fmtDuration(59_400)).toBe('0:59');
    expect(fmtDuration(3_725_000)).toBe('1:02:05');
    expect(fmtDuration(undefined)).toBe('--:--');
  });
});
