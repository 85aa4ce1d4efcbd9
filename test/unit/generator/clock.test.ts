import { describe, expect, it } from '@jest/globals';
import { barClock, expectedTradingSecondsFor, intradayActivity, parseTimeframe, SESSION_SECONDS, tickClock } from '../../../shared/generator/clock';

const iso = (ms: number) => new Date(ms).toISOString();
// 2024-01-02 was a Tuesday; 2024-01-05 a Friday; 2024-01-06 a Saturday; 2024-01-08 a Monday.
const TUE_OPEN = Date.UTC(2024, 0, 2, 14, 30);

describe('calendar clock', () => {
  it('lays 1-minute bars on the 14:30–21:00 UTC session, 390 per day', () => {
    const c = barClock('calendar', TUE_OPEN, 60_000);
    expect(iso(c.timestamp(0))).toBe('2024-01-02T14:30:00.000Z');
    expect(iso(c.timestamp(389))).toBe('2024-01-02T20:59:00.000Z');
    expect(iso(c.timestamp(390))).toBe('2024-01-03T14:30:00.000Z');
  });

  it('skips the weekend', () => {
    const c = barClock('calendar', TUE_OPEN, 60_000);
    // Tue, Wed, Thu, Fri = 4 sessions; the 5th starts on Monday.
    expect(iso(c.timestamp(4 * 390 - 1))).toBe('2024-01-05T20:59:00.000Z');
    expect(iso(c.timestamp(4 * 390))).toBe('2024-01-08T14:30:00.000Z');
    const daily = barClock('calendar', TUE_OPEN, 86_400_000);
    expect([0, 1, 2, 3, 4, 5].map((k) => iso(daily.timestamp(k)).slice(0, 10))).toEqual(['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-08', '2024-01-09']);
  });

  it('a start on Saturday begins Monday; a start mid-session begins there; after the close, the next day', () => {
    expect(iso(barClock('calendar', Date.UTC(2024, 0, 6, 10), 60_000).timestamp(0))).toBe('2024-01-08T14:30:00.000Z');
    expect(iso(barClock('calendar', Date.UTC(2024, 0, 2, 15, 0), 300_000).timestamp(0))).toBe('2024-01-02T15:00:00.000Z');
    expect(iso(barClock('calendar', Date.UTC(2024, 0, 2, 15, 2), 300_000).timestamp(0))).toBe('2024-01-02T15:05:00.000Z');
    expect(iso(barClock('calendar', Date.UTC(2024, 0, 5, 22, 0), 60_000).timestamp(0))).toBe('2024-01-08T14:30:00.000Z');
  });

  it('maps trade times in trading seconds across sessions', () => {
    const c = tickClock('calendar', TUE_OPEN);
    expect(iso(c.timestamp(0))).toBe('2024-01-02T14:30:00.000Z');
    expect(iso(c.timestamp(SESSION_SECONDS - 0.5))).toBe('2024-01-02T20:59:59.500Z');
    expect(iso(c.timestamp(SESSION_SECONDS))).toBe('2024-01-03T14:30:00.000Z');
    expect(iso(c.timestamp(4 * SESSION_SECONDS + 60))).toBe('2024-01-08T14:31:00.000Z');
  });

  it('gives bars their session phase for the intraday curve (undefined for daily bars)', () => {
    const c = barClock('calendar', TUE_OPEN, 60_000);
    expect(c.phase(0)).toBeCloseTo(30 / SESSION_SECONDS, 10);
    expect(c.phase(389)).toBeCloseTo(1 - 30 / SESSION_SECONDS, 10);
    expect(barClock('calendar', TUE_OPEN, 86_400_000).phase(3)).toBeUndefined();
  });
});

describe('continuous clock', () => {
  it('is plain arithmetic from the start, with no gaps', () => {
    const start = Date.UTC(2025, 5, 7, 3, 0); // a Saturday night: no sessions needed
    expect(barClock('continuous', start, 300_000).timestamp(10)).toBe(start + 3_000_000);
    expect(tickClock('continuous', start).timestamp(1.5)).toBe(start + 1500);
  });
});

describe('intraday activity curve', () => {
  it('averages 1 over the session (so --rate is the mean rate) and is U-shaped', () => {
    let sum = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) sum += intradayActivity((i + 0.5) / n);
    expect(sum / n).toBeCloseTo(1, 6);
    expect(intradayActivity(0)).toBeCloseTo(2, 10); // (1 + 3 + 0.4) / 2.2
    expect(intradayActivity(0.5)).toBeCloseTo(1.2 / 2.2, 10);
    expect(intradayActivity(1)).toBeGreaterThan(3 * intradayActivity(0.5));
  });

  it('expected time for N arrivals: a full session holds rate × 23,400 of them', () => {
    expect(expectedTradingSecondsFor(10 * SESSION_SECONDS, 10)).toBeCloseTo(SESSION_SECONDS, 3);
    expect(expectedTradingSecondsFor(20 * SESSION_SECONDS, 10)).toBeCloseTo(2 * SESSION_SECONDS, 3);
    // Early in the session activity is ~2x the mean, so 1,000 arrivals at 10/s take about 50 s, not 100.
    const early = expectedTradingSecondsFor(1000, 10);
    expect(early).toBeGreaterThan(48);
    expect(early).toBeLessThan(53);
  });
});

describe('timeframes', () => {
  it('parses the supported ones and names the list on error', () => {
    expect(parseTimeframe('1m')).toBe(60_000);
    expect(parseTimeframe('4h')).toBe(14_400_000);
    expect(parseTimeframe('1d')).toBe(86_400_000);
    expect(() => parseTimeframe('3m')).toThrow(/unknown timeframe "3m" \(expected one of 1s, .*1d\)/);
  });
});
