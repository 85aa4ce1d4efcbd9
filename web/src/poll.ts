import { ApiError, getJson } from './api';

/**
 * Live updates by polling with ETags: every ~2 s a conditional GET, which costs a
 * 304 when nothing changed. Polls never overlap, pause while the tab is hidden, and
 * back off (up to 30 s) while the API is unreachable.
 */

export interface LiveStatus {
  ok(): void;
  failed(err: unknown): void;
}

export interface PollOptions<T> {
  /** Re-read on every poll: when the path changes (new interval, new filter) the old ETag is dropped. */
  path: () => string;
  parse: (raw: unknown) => T;
  onData: (data: T) => void;
  /** Errors the caller wants to render itself (a 404 for an unknown symbol). Return true when handled. */
  onError?: (err: unknown) => boolean | void;
  intervalMs?: number;
  status?: LiveStatus;
}

export interface Poller {
  stop(): void;
  /** Poll now (after an interval switch), without waiting for the timer. */
  refresh(): void;
}

const MAX_BACKOFF_MS = 30_000;

export function poll<T>(opts: PollOptions<T>): Poller {
  const interval = opts.intervalMs ?? 2000;
  let etag: string | null = null;
  let lastPath = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | undefined;
  let stopped = false;
  let failures = 0;
  let again = false;

  const schedule = (ms: number): void => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(tick, ms);
  };

  async function tick(): Promise<void> {
    if (stopped) return;
    if (document.hidden) return; // resumed by visibilitychange
    if (inFlight) {
      again = true;
      return;
    }
    const path = opts.path();
    if (path !== lastPath) {
      etag = null;
      lastPath = path;
    }
    inFlight = new AbortController();
    try {
      const res = await getJson(path, opts.parse, etag, inFlight.signal);
      if (stopped) return;
      failures = 0;
      opts.status?.ok();
      // A response for a path the page has since left is dropped: the next poll asks again.
      if (res.modified && path === opts.path()) {
        etag = res.etag;
        opts.onData(res.data);
      }
    } catch (err) {
      if (stopped || (err instanceof DOMException && err.name === 'AbortError')) return;
      const handled = opts.onError?.(err) === true;
      // A 4xx is an answer, not an outage: keep polling at the normal rate.
      if (err instanceof ApiError && err.status < 500) opts.status?.ok();
      else if (!handled) {
        failures++;
        opts.status?.failed(err);
      }
    } finally {
      inFlight = undefined;
    }
    if (again) {
      again = false;
      schedule(0);
    } else {
      schedule(failures ? Math.min(MAX_BACKOFF_MS, interval * 2 ** failures) : interval);
    }
  }

  const onVisibility = (): void => {
    if (!document.hidden) schedule(0);
  };
  document.addEventListener('visibilitychange', onVisibility);
  schedule(0);

  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      inFlight?.abort();
      document.removeEventListener('visibilitychange', onVisibility);
    },
    refresh() {
      failures = 0;
      schedule(0);
    },
  };
}
