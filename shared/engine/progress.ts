/**
 * Progress for long runs on stderr: a redrawn bar with rate and ETA on a TTY,
 * otherwise a plain status line every few seconds (logs stay readable).
 */

export interface ProgressOptions {
  label: string;
  /** Total units of work (e.g. bytes or items); 0 when unknown. */
  total: number;
  /** Unit name used for the rate when no detail is given. */
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Interval between status lines when not on a TTY. */
  logEveryMs?: number;
  /** Never print (e.g. --quiet). */
  silent?: boolean;
}

export interface Progress {
  /** done: units finished so far; detail: extra text such as "120,000 rows/s". */
  update(done: number, detail?: string): void;
  /** Clears the bar (TTY) so a summary can follow. */
  finish(): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  return m < 60 ? `${m}m${String(s).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const started = performance.now();
  const logEvery = opts.logEveryMs ?? 5000;
  let lastDraw = 0;
  let drawn = false;

  const line = (done: number, detail: string | undefined, width: number): string => {
    const elapsed = (performance.now() - started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const rateText = detail ?? `${formatCount(rate)} ${opts.unit ?? 'units'}/s`;
    if (opts.total <= 0) return `${opts.label} ${formatCount(done)} ${opts.unit ?? ''} ${rateText} ${formatDuration(elapsed)}`;
    const frac = Math.min(1, done / opts.total);
    const eta = rate > 0 ? (opts.total - done) / rate : Number.NaN;
    const bar = width > 0 ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ` : '';
    return `${opts.label} ${bar}${(frac * 100).toFixed(1)}% ${rateText} ETA ${formatDuration(eta)}`;
  };

  return {
    update(done, detail) {
      if (opts.silent) return;
      const now = performance.now();
      if (tty) {
        if (now - lastDraw < 100) return;
        lastDraw = now;
        const text = line(done, detail, 24);
        stream.write(`\r${text.slice(0, Math.max(20, (stream.columns ?? 100) - 1))}\x1b[K`);
        drawn = true;
      } else if (now - started >= logEvery && now - lastDraw >= logEvery) {
        lastDraw = now;
        stream.write(`${line(done, detail, 0)}\n`);
      }
    },
    finish() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
