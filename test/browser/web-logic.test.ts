import { describe, expect, it } from '@jest/globals';
import { parseError, parseOverview, parseSignals, parseSymbols } from '../../web/src/api';
import { bucketStart, normalizeBars, signalMarkers, toChartSeries } from '../../web/src/chart-data';
import { dialPoint } from '../../web/src/components/gauge';
import { sparklinePoints } from '../../web/src/components/sparkline';
import { formatAgo, formatPct, formatPrice, rsiZone } from '../../web/src/format';
import { parseRoute } from '../../web/src/router';
import { buildSubscription, fieldControl } from '../../web/src/views/subscribe';
import type { Bar, Signal } from '../../web/src/api';

/** The dashboard's pure logic, in Node: no browser, no API. */

const T0 = Date.UTC(2024, 4, 1, 13, 30); // 2024-05-01T13:30:00Z
const bar = (i: number, close: number, open = close): Bar => ({ time: T0 + i * 60_000, open, high: Math.max(open, close), low: Math.min(open, close), close, volume: 10, vwap: null, trades: 1 });

describe('chart series', () => {
  it("computes RSI on bar closes with Wilder's published 14-period example: first value 70.4641 on the 15th bar", () => {
    const closes = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.1, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28, 46.28];
    const s = toChartSeries(closes.map((c, i) => bar(i, c)), { ma: 20, ema: 20, rsi: 14 });
    expect(s.rsi).toHaveLength(1);
    expect(s.rsi[0]!.time).toBe((T0 + 14 * 60_000) / 1000);
    expect(s.rsi[0]!.value).toBeCloseTo(70.4641, 4);
    expect(s.ma).toEqual([]);
  });

  it('matches the Tulip Indicators RSI(5) reference, 72.034', () => {
    const s = toChartSeries([81.59, 81.06, 82.87, 83.0, 83.61, 83.15].map((c, i) => bar(i, c)), { ma: 3, ema: 3, rsi: 5 });
    expect(s.rsi.map((p) => Number(p.value.toFixed(3)))).toEqual([72.034]);
  });

  it('seeds the EMA with the SMA and aligns every line with its bar', () => {
    // MA(3) of 1,2,3 = 2 and of 2,3,4 = 3; EMA(3): seed 2, then (4 - 2) * 2/(3+1) + 2 = 3.
    const s = toChartSeries([1, 2, 3, 4].map((c, i) => bar(i, c)), { ma: 3, ema: 3, rsi: 2 });
    const t = (i: number) => (T0 + i * 60_000) / 1000;
    expect(s.ma).toEqual([{ time: t(2), value: 2 }, { time: t(3), value: 3 }]);
    expect(s.ema).toEqual([{ time: t(2), value: 2 }, { time: t(3), value: 3 }]);
    // Only gains: RSI is 100.
    expect(s.rsi).toEqual([{ time: t(2), value: 100 }, { time: t(3), value: 100 }]);
    expect(s.volume.map((v) => v.up)).toEqual([true, true, true, true]);
  });

  it('sorts bars ascending and keeps one per time (the later copy wins)', () => {
    const out = normalizeBars([bar(2, 3), bar(0, 1), bar(1, 2), { ...bar(1, 9) }]);
    expect(out.map((b) => b.close)).toEqual([1, 9, 3]);
  });
});

describe('signal markers', () => {
  const signal = (id: string, side: 'BUY' | 'SELL', barTime: number | null): Signal => ({
    id, symbol: 'AAPL', side, rule: 'rsi-threshold', price: 1, barTime, reason: '', createdAt: barTime, indicators: { ma: null, ema: null, rsi: null },
  });

  it('buckets a bar time into the interval that holds it', () => {
    expect(bucketStart(Date.UTC(2024, 4, 1, 13, 34, 59), '5m')).toBe(Date.UTC(2024, 4, 1, 13, 30) / 1000);
    expect(bucketStart(Date.UTC(2024, 4, 1, 13, 59), '1h')).toBe(Date.UTC(2024, 4, 1, 13) / 1000);
    expect(bucketStart(Date.UTC(2024, 4, 1, 23, 59), '1d')).toBe(Date.UTC(2024, 4, 1) / 1000);
  });

  it('puts each signal on the bar holding it, once, in time order, and drops those off the chart', () => {
    const candles = [0, 5, 10].map((m) => ({ time: (T0 + m * 60_000) / 1000, open: 1, high: 1, low: 1, close: 1 }));
    const markers = signalMarkers(
      [
        signal('b', 'SELL', T0 + 7 * 60_000), // inside the 13:35 five-minute bar
        signal('a', 'BUY', T0 + 1 * 60_000), // inside 13:30
        signal('a', 'BUY', T0 + 1 * 60_000), // a duplicate
        signal('c', 'BUY', T0 + 30 * 60_000), // no bar loaded there
        signal('d', 'BUY', null),
      ],
      candles,
      '5m',
    );
    expect(markers).toEqual([
      { time: T0 / 1000, side: 'BUY', text: 'BUY', id: 'a' },
      { time: (T0 + 5 * 60_000) / 1000, side: 'SELL', text: 'SELL', id: 'b' },
    ]);
  });
});

describe('API responses', () => {
  it('reads the overview contract: breadth, movers, signal counts by side and rule, economic indicators', () => {
    const o = parseOverview({
      asOf: '2024-05-01T13:30:00.000Z',
      breadth: { advancers: 6, decliners: 3, unchanged: 1 },
      topGainers: [{ symbol: 'AAPL', lastPrice: 190, changePct: 2.5 }],
      topLosers: [{ symbol: 'TSLA', lastPrice: 170, changePct: -3 }],
      mostActive: [{ symbol: 'NVDA', volume: 12345, lastPrice: 900, day: '2024-05-01T00:00:00.000Z' }],
      signals: { since: '2024-04-30T13:30:00.000Z', total: 7, bySide: { BUY: 4, SELL: 3 }, byRule: { 'rsi-threshold': 5, 'ema-ma-crossover': 2 } },
      economicIndicators: [{ name: 'CPI', value: 3.1, timestamp: '2024-05-01T12:00:00.000Z' }],
    });
    expect([o.advancers, o.decliners, o.unchanged]).toEqual([6, 3, 1]);
    expect(o.topGainers).toEqual([{ symbol: 'AAPL', changePct: 2.5, lastPrice: 190, volume: null }]);
    expect(o.mostActive[0]!.volume).toBe(12345);
    expect(o.signals).toEqual({
      total: 7, buy: 4, sell: 3, since: Date.UTC(2024, 3, 30, 13, 30),
      byRule: [{ rule: 'rsi-threshold', count: 5 }, { rule: 'ema-ma-crossover', count: 2 }],
    });
    expect(o.economic).toEqual([{ name: 'CPI', value: 3.1, time: Date.UTC(2024, 4, 1, 12) }]);
  });

  it('degrades a malformed response to empty widgets instead of throwing', () => {
    expect(parseOverview('nonsense').topGainers).toEqual([]);
    expect(parseSymbols({ items: [{ symbol: 'A', lastPrice: 'x' }, { nope: 1 }] })).toEqual([
      { symbol: 'A', lastPrice: null, lastTimestamp: null, changePct: null, indicators: { ma: null, ema: null, rsi: null }, sparkline: null },
    ]);
    const page = parseSignals({ items: [{ id: '1', symbol: 'A', side: 'HOLD' }, { id: '2', symbol: 'A', side: 'BUY', barTime: '2024-05-01T13:30:00Z' }] });
    expect(page.items.map((s) => [s.id, s.barTime])).toEqual([['2', T0]]);
  });

  it('keeps field errors from the error envelope', () => {
    const e = parseError(400, { error: { code: 'invalid_request', message: 'bad', fields: [{ field: 'endpoint', message: 'must be an email' }] } });
    expect([e.status, e.code, e.message, e.fields]).toEqual([400, 'invalid_request', 'bad', [{ field: 'endpoint', message: 'must be an email' }]]);
    expect(parseError(502, '<html>').message).toBe('Request failed with HTTP 502');
  });
});

describe('subscription form', () => {
  it('builds the request: symbols upper-cased, split on commas or spaces, de-duplicated; empty means all', () => {
    expect(buildSubscription({ protocol: 'email', endpoint: ' a@b.co ', symbols: 'aapl, msft  AAPL;tsla', sides: ['BUY'] })).toEqual({
      protocol: 'email', endpoint: 'a@b.co', symbols: ['AAPL', 'MSFT', 'TSLA'], sides: ['BUY'],
    });
    expect(buildSubscription({ protocol: 'sms', endpoint: '+14155550123', symbols: '  ', sides: ['BUY', 'SELL'] })).toEqual({
      protocol: 'sms', endpoint: '+14155550123', sides: ['BUY', 'SELL'],
    });
  });

  it('maps server field paths to form controls', () => {
    expect(['endpoint', 'symbols.2', 'symbols[0]', 'sides.0', 'protocol', 'body.endpoint', '(root)', 'extra'].map(fieldControl)).toEqual([
      'endpoint', 'symbols', 'symbols', 'sides', 'protocol', 'endpoint', null, null,
    ]);
  });
});

describe('routes', () => {
  it('parses hash routes', () => {
    expect(parseRoute('').name).toBe('overview');
    expect(parseRoute('#/').name).toBe('overview');
    expect(parseRoute('#/alerts').name).toBe('subscribe');
    const r = parseRoute('#/symbol/brk.b?interval=5m');
    expect(r).toMatchObject({ name: 'symbol', symbol: 'BRK.B' });
    expect(r.params.get('interval')).toBe('5m');
    for (const bad of ['#/symbol/', '#/symbol/%E0%A4%A', '#/symbol/ABCDEFGHIJKLM', '#/symbol/A%2FB', '#/nowhere']) {
      expect({ bad, name: parseRoute(bad).name }).toEqual({ bad, name: 'not-found' });
    }
  });
});

describe('formatting and drawing', () => {
  it('formats prices, signed percentages and ages', () => {
    expect(formatPrice(1234.5)).toBe('1,234.50');
    expect(formatPrice(0.5)).toBe('0.5000');
    expect(formatPrice(null)).toBe('—');
    expect([formatPct(1.234), formatPct(-2), formatPct(-0.004), formatPct(0)]).toEqual(['+1.23%', '-2.00%', '0.00%', '0.00%']);
    const now = T0 + 3 * 3600_000;
    expect([formatAgo(now - 2000, now), formatAgo(now - 42_000, now), formatAgo(now - 5 * 60_000, now), formatAgo(now - 3 * 3600_000, now)]).toEqual([
      'just now', '42s ago', '5m ago', '3h ago',
    ]);
    expect([rsiZone(29.9), rsiZone(30), rsiZone(70), rsiZone(70.1), rsiZone(null)]).toEqual(['oversold', 'neutral', 'neutral', 'overbought', 'unknown']);
  });

  it('scales a sparkline into its box, highest value at the top, flat series at mid-height', () => {
    expect(sparklinePoints([1, 2, 3], 100, 10, 0)).toBe('0.0,10.0 50.0,5.0 100.0,0.0');
    expect(sparklinePoints([5, 5], 100, 10, 0)).toBe('0.0,5.0 100.0,5.0');
    expect(sparklinePoints([], 100, 10)).toBe('');
  });

  it('places the RSI needle on a half dial: 0 left, 50 top, 100 right', () => {
    const round = (p: { x: number; y: number }) => ({ x: Math.round(p.x * 1000) / 1000, y: Math.round(p.y * 1000) / 1000 });
    expect([0, 50, 100, -5, 120].map((v) => round(dialPoint(v)))).toEqual([
      { x: 10, y: 50 }, { x: 50, y: 10 }, { x: 90, y: 50 }, { x: 10, y: 50 }, { x: 90, y: 50 },
    ]);
  });
});
