/**
 * Simulated time. The model runs in trading time; a clock turns trading time
 * into record timestamps and says where in the session a moment falls (the
 * intraday activity curve depends on it).
 *
 * - calendar: US cash sessions, 14:30–21:00 UTC on weekdays (09:30–16:00 New
 *   York in winter; daylight saving and holidays are ignored on purpose, so the
 *   mapping is a pure function of the options). Daily bars are stamped 00:00 UTC.
 * - continuous: trading time is wall time, sessions of the same length follow
 *   each other back to back. Used when feeding a live pipeline, whose ingest
 *   accepts only timestamps near "now" and must not see overnight gaps.
 */

export const SESSION_SECONDS = 23_400;
export const SESSION_OPEN_UTC_SECONDS = 14 * 3600 + 30 * 60;
const DAY_MS = 86_400_000;

export type ClockKind = 'calendar' | 'continuous';

const TIMEFRAME_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: DAY_MS };

/** Timeframes the generator can lay bars on; they divide a session or are a whole day. */
export const TIMEFRAMES = ['1s', '5s', '10s', '15s', '30s', '1m', '2m', '5m', '10m', '15m', '30m', '1h', '2h', '4h', '1d'] as const;

export function parseTimeframe(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (!m || !(TIMEFRAMES as readonly string[]).includes(text)) {
    throw new RangeError(`unknown timeframe "${text}" (expected one of ${TIMEFRAMES.join(', ')})`);
  }
  return Number(m[1]) * (TIMEFRAME_UNITS[m[2] as string] as number);
}

/**
 * Relative activity through the session (phase 0 = open, 1 = close), mean 1
 * over the session: about 2× the average at the open and close, half of it at
 * midday, with the open a little busier than the close (the "reverse J").
 */
export function intradayActivity(phase: number): number {
  const x = 2 * phase - 1;
  // ∫0^1 (1 + 3x² + 0.4·(1-phase)) dphase = 1 + 1 + 0.2 = 2.2
  return (1 + 3 * x * x + 0.4 * (1 - phase)) / 2.2;
}
export const MAX_INTRADAY_ACTIVITY = intradayActivity(0);

/** Weekday sessions as day numbers since the epoch, counted from the session on or after a start day. */
class WeekdayCalendar {
  private readonly mondayOfFirstWeek: number;
  private readonly firstWeekday: number;
  /** @param firstDay a weekday (days since 1970-01-01). */
  constructor(firstDay: number) {
    this.firstWeekday = mondayBasedWeekday(firstDay);
    this.mondayOfFirstWeek = firstDay - this.firstWeekday;
  }
  /** Day number of the n-th session (n = 0 is the first). */
  day(n: number): number {
    const k = this.firstWeekday + n;
    return this.mondayOfFirstWeek + Math.floor(k / 5) * 7 + (k % 5);
  }
}

/** 0 = Monday … 6 = Sunday; 1970-01-01 was a Thursday. */
function mondayBasedWeekday(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

/** First session day on or after `day`, and whether `startMs` is past that day's close. */
function firstSessionDay(startMs: number): { day: number; offsetSeconds: number } {
  let day = Math.floor(startMs / DAY_MS);
  let offsetSeconds = Math.max(0, (startMs - day * DAY_MS) / 1000 - SESSION_OPEN_UTC_SECONDS);
  if (offsetSeconds >= SESSION_SECONDS) {
    day += 1;
    offsetSeconds = 0;
  }
  while (mondayBasedWeekday(day) >= 5) {
    day += 1;
    offsetSeconds = 0;
  }
  return { day, offsetSeconds };
}

/** Timestamps and session phases for bars laid on a timeframe. */
export interface BarClock {
  /** Epoch ms of bar k (its open time). */
  timestamp(k: number): number;
  /** Session phase of the middle of bar k, or undefined for daily bars (no intraday shape). */
  phase(k: number): number | undefined;
}

export function barClock(kind: ClockKind, startMs: number, timeframeMs: number): BarClock {
  const tfSeconds = timeframeMs / 1000;
  const daily = timeframeMs >= DAY_MS;
  if (kind === 'continuous') {
    return {
      timestamp: (k) => startMs + k * timeframeMs,
      phase: daily ? () => undefined : (k) => (((k + 0.5) * tfSeconds) % SESSION_SECONDS) / SESSION_SECONDS,
    };
  }
  const first = firstSessionDay(startMs);
  const calendar = new WeekdayCalendar(first.day);
  if (daily) {
    // A session that has already opened still gets its daily bar.
    return { timestamp: (k) => calendar.day(k) * DAY_MS, phase: () => undefined };
  }
  const barsPerSession = Math.ceil(SESSION_SECONDS / tfSeconds);
  const firstBar = Math.ceil(first.offsetSeconds / tfSeconds);
  return {
    timestamp(k) {
      const n = k + firstBar;
      const session = Math.floor(n / barsPerSession);
      const j = n - session * barsPerSession;
      return calendar.day(session) * DAY_MS + (SESSION_OPEN_UTC_SECONDS + j * tfSeconds) * 1000;
    },
    phase(k) {
      const j = (k + firstBar) % barsPerSession;
      return Math.min(1, ((j + 0.5) * tfSeconds) / SESSION_SECONDS);
    },
  };
}

/** Maps trading seconds since the start of the simulation to timestamps, for tick arrivals. */
export interface TickClock {
  /** Trading seconds into the session at the start (the simulation starts mid-session if --start says so). */
  readonly initialOffset: number;
  timestamp(tradingSeconds: number): number;
}

export function tickClock(kind: ClockKind, startMs: number): TickClock {
  if (kind === 'continuous') {
    return { initialOffset: 0, timestamp: (s) => Math.floor(startMs + s * 1000) };
  }
  const first = firstSessionDay(startMs);
  const calendar = new WeekdayCalendar(first.day);
  return {
    initialOffset: first.offsetSeconds,
    timestamp(s) {
      const total = s + first.offsetSeconds;
      const session = Math.floor(total / SESSION_SECONDS);
      const within = total - session * SESSION_SECONDS;
      return Math.floor(calendar.day(session) * DAY_MS + (SESSION_OPEN_UTC_SECONDS + within) * 1000);
    },
  };
}

/**
 * Trading seconds after which a Poisson process of mean rate `ratePerSecond`,
 * shaped by the intraday curve from a session open, has produced `count`
 * arrivals on average. Used to place a burst of ticks so that it ends now.
 */
export function expectedTradingSecondsFor(count: number, ratePerSecond: number, startOffset = 0): number {
  // Whole sessions integrate to exactly rate × SESSION_SECONDS; only the last partial one needs stepping.
  const perSession = ratePerSecond * SESSION_SECONDS;
  let remaining = count;
  let s = startOffset;
  const step = 1;
  while (remaining > 0) {
    const within = s % SESSION_SECONDS;
    if (within === 0 && remaining > perSession) {
      remaining -= perSession;
      s += SESSION_SECONDS;
      continue;
    }
    const expected = ratePerSecond * intradayActivity((within + step / 2) / SESSION_SECONDS) * step;
    if (expected >= remaining) return s + (remaining / expected) * step;
    remaining -= expected;
    s += step;
  }
  return s;
}
