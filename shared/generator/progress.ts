/**
 * Progress for long runs: a redrawn bar with rate and ETA on a terminal, a
 * status line every few seconds otherwise (CI logs, pipes), and the final
 * summary either way.
 */

export interface ProgressCounts {
  sent: number;
  accepted: number;
  rejected: number;
  retries: number;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  stream: ProgressStream;
  label: string;
  total?: number;
  now?: () => number;
  /** Between status lines when not on a terminal. */
  lineIntervalMs?: number;
  /** Between redraws on a terminal. */
  redrawIntervalMs?: number;
}

export class Progress {
  private readonly now: () => number;
  private readonly startedAt: number;
  private lastOutput = Number.NEGATIVE_INFINITY;
  private drewBar = false;
  private counts: ProgressCounts = { sent: 0, accepted: 0, rejected: 0, retries: 0 };

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.startedAt = this.now();
    this.lastOutput = this.startedAt;
  }

  update(counts: ProgressCounts): void {
    this.counts = counts;
    const t = this.now();
    const tty = this.opts.stream.isTTY === true;
    const interval = tty ? (this.opts.redrawIntervalMs ?? 100) : (this.opts.lineIntervalMs ?? 5000);
    if (t - this.lastOutput < interval) return;
    this.lastOutput = t;
    if (tty) {
      this.opts.stream.write(`\r\x1b[2K${this.barLine(t)}`);
      this.drewBar = true;
    } else {
      this.opts.stream.write(`${this.statusLine(t)}\n`);
    }
  }

  /** Clears the bar so the summary starts on a clean line. */
  finish(): void {
    if (this.drewBar) {
      this.opts.stream.write(`\r\x1b[2K${this.barLine(this.now())}\n`);
      this.drewBar = false;
    }
  }

  elapsedMs(): number {
    return this.now() - this.startedAt;
  }

  barLine(t: number): string {
    const { sent, accepted, rejected, retries } = this.counts;
    const rate = ratePerSecond(sent, t - this.startedAt);
    const total = this.opts.total;
    const tail = `${fmtInt(rate)} rec/s  ok ${fmtInt(accepted)}  rej ${fmtInt(rejected)}  retries ${fmtInt(retries)}`;
    if (total === undefined || total <= 0) return `${this.opts.label} ${fmtInt(sent)} sent  ${tail}`;
    const fraction = Math.min(1, sent / total);
    const width = Math.max(10, Math.min(30, (this.opts.stream.columns ?? 100) - 90));
    const filled = Math.round(fraction * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    return `${this.opts.label} [${bar}] ${(fraction * 100).toFixed(1).padStart(5)}% ${fmtInt(sent)}/${fmtInt(total)}  ${tail}  ETA ${fmtDuration(eta(sent, total, rate))}`;
  }

  statusLine(t: number): string {
    const { sent, accepted, rejected, retries } = this.counts;
    const rate = ratePerSecond(sent, t - this.startedAt);
    const total = this.opts.total;
    const progress = total ? `${sent}/${total} (${((100 * sent) / total).toFixed(1)}%)` : `${sent}`;
    const etaText = total ? `, eta ${fmtDuration(eta(sent, total, rate))}` : '';
    return `${this.opts.label}: ${progress} sent, ${Math.round(rate)} rec/s${etaText}, accepted ${accepted}, rejected ${rejected}, retries ${retries}`;
  }
}

function ratePerSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
}

function eta(done: number, total: number, rate: number): number | undefined {
  if (done >= total) return 0;
  return rate > 0 ? ((total - done) / rate) * 1000 : undefined;
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '--:--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}
