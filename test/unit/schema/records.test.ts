import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { z } from 'zod';
import {
  formatFieldErrors,
  MAX_FUTURE_MS,
  MAX_PAST_MS,
  MAX_PRICE,
  MAX_VOLUME,
  normalizeSeedRecord,
  parseIsoTimestamp,
  PriceRecordSchema,
  SYMBOL_PATTERN,
  validatePriceRecord,
  type FieldError,
} from '../../../shared/schema/records';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const opts = { now: NOW };
const base = { symbol: 'AAPL', timestamp: NOW - 60_000, open: 100, high: 101, low: 99, close: 100.5, volume: 1000 };

function errorsFor(input: unknown, o = opts): FieldError[] {
  const r = validatePriceRecord(input, o);
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r.value)}`);
  return r.errors;
}
function accepts(input: unknown, o = opts): boolean {
  return validatePriceRecord(input, o).ok;
}
const fieldsOf = (errors: FieldError[]) => errors.map((e) => e.field);

describe('price record: symbol', () => {
  it('accepts uppercase letters, digits, "." and "-", 1 to 12 characters', () => {
    for (const symbol of ['A', 'AAPL', 'BRK.B', 'BF-B', '7203', 'ABCDEFGHIJKL']) expect(accepts({ ...base, symbol })).toBe(true);
    expect(SYMBOL_PATTERN.source).toBe('^[A-Z0-9.-]{1,12}$');
  });

  it('refuses other symbols with a message naming the rule', () => {
    expect(errorsFor({ ...base, symbol: 'aapl' })).toEqual([{ field: 'symbol', message: 'symbol "aapl" must be 1 to 12 characters of A-Z, 0-9, "." or "-" (symbols are uppercase)' }]);
    for (const symbol of ['', 'ABCDEFGHIJKLM', 'AA PL', 'AAPL$', 'ÄPFEL']) expect(fieldsOf(errorsFor({ ...base, symbol }))).toEqual(['symbol']);
    expect(errorsFor({ ...base, symbol: 42 })[0]!.message).toBe('symbol must be a string, got 42');
  });
});

describe('price record: prices', () => {
  it('accepts finite positive prices up to MAX_PRICE', () => {
    expect(accepts({ ...base, open: 0.0001, low: 0.0001 })).toBe(true);
    expect(accepts({ ...base, open: MAX_PRICE, high: MAX_PRICE, close: MAX_PRICE })).toBe(true);
  });

  it('refuses zero, negative, non-finite, string and missing prices, naming the field', () => {
    expect(errorsFor({ ...base, low: 0 })).toEqual([{ field: 'low', message: 'low must be > 0, got 0' }]);
    expect(errorsFor({ ...base, open: -1 })[0]).toEqual({ field: 'open', message: 'open must be > 0, got -1' });
    expect(errorsFor({ ...base, close: Number.NaN })[0]).toEqual({ field: 'close', message: 'close must be a finite number, got NaN' });
    expect(errorsFor({ ...base, high: Infinity })[0]).toEqual({ field: 'high', message: 'high must be a finite number, got Infinity' });
    expect(errorsFor({ ...base, open: '100' })[0]).toEqual({ field: 'open', message: 'open must be a JSON number, got the string "100" (numeric strings are not converted)' });
    expect(errorsFor({ ...base, open: 'abc' })[0]!.message).toBe('open must be a number, got the string "abc"');
    expect(errorsFor({ ...base, open: null })[0]!.message).toBe('open must be a number, got null');
    const { close: _omit, ...noClose } = base;
    expect(errorsFor(noClose)).toEqual([{ field: 'close', message: 'close is required' }]);
    expect(errorsFor({ ...base, high: MAX_PRICE * 10 })[0]!.message).toBe(`high must be <= ${MAX_PRICE}, got ${MAX_PRICE * 10}`);
  });
});

describe('price record: OHLC consistency', () => {
  it('accepts low = min(open, close) and high = max(open, close)', () => {
    expect(accepts({ ...base, open: 100, close: 101, low: 100, high: 101 })).toBe(true);
    expect(accepts({ ...base, open: 5, close: 5, low: 5, high: 5 })).toBe(true); // a trade tick
  });

  it('refuses low above min(open, close)', () => {
    expect(errorsFor({ ...base, open: 100, close: 100.2, low: 100.1, high: 101 })).toEqual([
      { field: 'low', message: 'low (100.1) must be <= min(open, close) (100)' },
    ]);
  });

  it('refuses high below max(open, close)', () => {
    expect(errorsFor({ ...base, open: 100, close: 100.2, low: 99, high: 99.5 })).toEqual([
      { field: 'high', message: 'high (99.5) must be >= max(open, close) (100.2)' },
    ]);
  });
});

describe('price record: volume', () => {
  it('accepts zero and fractional volume', () => {
    expect(accepts({ ...base, volume: 0 })).toBe(true);
    expect(accepts({ ...base, volume: 0.5 })).toBe(true);
  });

  it('refuses negative, non-finite, string and oversized volume', () => {
    expect(errorsFor({ ...base, volume: -1 })).toEqual([{ field: 'volume', message: 'volume must be >= 0, got -1' }]);
    expect(errorsFor({ ...base, volume: Infinity })[0]!.message).toBe('volume must be a finite number, got Infinity');
    expect(errorsFor({ ...base, volume: '10' })[0]!.field).toBe('volume');
    expect(errorsFor({ ...base, volume: MAX_VOLUME * 2 })[0]!.field).toBe('volume');
  });
});

describe('price record: timestamp', () => {
  it('accepts ISO-8601 with a zone and epoch milliseconds, normalizing to epoch ms', () => {
    const cases: Array<[unknown, number]> = [
      ['2024-05-01T11:59:00Z', Date.parse('2024-05-01T11:59:00Z')],
      ['2024-05-01T13:59:00+02:00', Date.parse('2024-05-01T11:59:00Z')],
      ['2024-05-01T07:29:00.250-0430', Date.parse('2024-05-01T11:59:00.250Z')],
      ['2024-05-01 11:59:30.123456Z', Date.parse('2024-05-01T11:59:30.123Z')],
      [NOW - 1000, NOW - 1000],
      [NOW - 1000.4, NOW - 1000],
    ];
    for (const [timestamp, ms] of cases) {
      const r = validatePriceRecord({ ...base, timestamp }, opts);
      expect(r.ok && r.value.timestamp).toBe(ms);
    }
  });

  it('refuses ambiguous or invalid timestamps with the reason', () => {
    const message = (timestamp: unknown) => errorsFor({ ...base, timestamp })[0]!.message;
    expect(message('2024-05-01T11:59:00')).toBe('timestamp "2024-05-01T11:59:00" has a time but no zone; add Z or an offset such as +02:00');
    expect(message('yesterday')).toMatch(/is not an ISO-8601 date-time/);
    expect(message('2023-02-29T00:00:00Z')).toBe('timestamp "2023-02-29T00:00:00Z" has day 29, but 2023-02 has 28 days');
    expect(message('2024-13-01T00:00:00Z')).toMatch(/has month 13/);
    expect(message('2024-05-01T24:00:00Z')).toMatch(/invalid time 24:00:00/);
    expect(message(String(NOW))).toMatch(/numeric strings are not converted/);
    expect(message(true)).toBe('timestamp must be an ISO-8601 string or epoch milliseconds as a number, got a boolean');
    expect(message(Number.NaN)).toBe('timestamp must be a finite number, got NaN');
    expect(fieldsOf(errorsFor({ ...base, timestamp: undefined }))).toEqual(['timestamp']);
  });

  it('accepts up to 7 days in the past and 5 minutes in the future, inclusive', () => {
    expect(accepts({ ...base, timestamp: NOW - MAX_PAST_MS })).toBe(true);
    expect(accepts({ ...base, timestamp: NOW + MAX_FUTURE_MS })).toBe(true);
  });

  it('refuses older or later timestamps, and hints at epoch seconds', () => {
    expect(errorsFor({ ...base, timestamp: NOW - MAX_PAST_MS - 1 })).toEqual([
      { field: 'timestamp', message: 'timestamp 2024-04-24T11:59:59.999Z is more than 7 days before now (2024-05-01T12:00:00.000Z)' },
    ]);
    expect(errorsFor({ ...base, timestamp: NOW + MAX_FUTURE_MS + 1 })[0]!.message).toBe(
      'timestamp 2024-05-01T12:05:00.001Z is more than 5 minutes after now (2024-05-01T12:00:00.000Z)',
    );
    expect(errorsFor({ ...base, timestamp: NOW / 1000 })[0]!.message).toMatch(/looks like epoch seconds/);
  });

  it('uses the wall clock by default and can skip the window for backtests', () => {
    expect(validatePriceRecord({ ...base, timestamp: Date.now() - 1000 }).ok).toBe(true);
    expect(validatePriceRecord({ ...base, timestamp: '2001-01-01T00:00:00Z' }).ok).toBe(false);
    expect(validatePriceRecord({ ...base, timestamp: '2001-01-01T00:00:00Z' }, { recencyCheck: false }).ok).toBe(true);
  });

  it('parses ISO by hand with a date-only form meaning UTC midnight', () => {
    expect(parseIsoTimestamp('2024-02-29')).toEqual({ ok: true, ms: Date.parse('2024-02-29T00:00:00Z') });
    expect(parseIsoTimestamp('2000-02-29T00:00Z')).toEqual({ ok: true, ms: Date.parse('2000-02-29T00:00:00Z') });
    expect(parseIsoTimestamp('1900-02-29').ok).toBe(false);
  });
});

describe('price record: whole-record behaviour', () => {
  it('reports every field problem at once and formats them on one line', () => {
    const errors = errorsFor({ symbol: 'x', timestamp: 'no', open: -1, high: '1', low: null, close: 2, volume: -3 });
    expect(fieldsOf(errors)).toEqual(['symbol', 'timestamp', 'open', 'high', 'low', 'volume']);
    expect(formatFieldErrors(errors).split('; ')).toHaveLength(6);
  });

  it('drops unknown keys and returns only the canonical fields', () => {
    const r = validatePriceRecord({ ...base, source: 'feed-1', extra: { deep: true } }, opts);
    expect(r).toEqual({ ok: true, value: base });
  });

  it('refuses non-objects at the root', () => {
    for (const input of [null, undefined, 42, 'AAPL', [], [base]]) {
      expect(errorsFor(input)).toEqual([{ field: '(root)', message: expect.stringMatching(/^record must be a JSON object, got /) }]);
    }
  });

  it('never throws: hostile objects, __proto__ keys, cycles and deep nesting', () => {
    const hostile = new Proxy({}, { get: () => { throw new Error('trap'); }, has: () => { throw new Error('trap'); }, ownKeys: () => { throw new Error('trap'); } });
    expect(errorsFor(hostile)[0]!.field).toBe('(root)');
    const proto = JSON.parse(`{"__proto__": {"symbol": "AAPL"}, "symbol": "MSFT", "timestamp": ${NOW}, "open": 1, "high": 1, "low": 1, "close": 1, "volume": 1}`);
    const r = validatePriceRecord(proto, opts);
    expect(r.ok && r.value.symbol).toBe('MSFT');
    expect(({} as Record<string, unknown>).symbol).toBeUndefined(); // no prototype pollution
    const cyclic: Record<string, unknown> = { ...base };
    cyclic.open = cyclic;
    expect(errorsFor(cyclic)).toEqual([{ field: 'open', message: 'open must be a number, got an object' }]);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(errorsFor({ ...base, volume: deep })[0]!.message).toBe('volume must be a number, got an object');
    expect(errorsFor(deep)[0]!.message).toBe('symbol is required');
  });

  it('never throws and always answers ok or field errors, for any input (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ symbol: fc.anything(), timestamp: fc.anything(), open: fc.anything(), high: fc.double(), low: fc.double(), close: fc.double(), volume: fc.anything() })), (input) => {
        const r = validatePriceRecord(input, opts);
        const s = normalizeSeedRecord(input, opts);
        const shaped = (x: typeof r | typeof s) => x.ok || (x.errors.length > 0 && x.errors.every((e) => typeof e.field === 'string' && e.message.length > 0));
        return shaped(r) && shaped(s);
      }),
      { numRuns: 500 },
    );
  });

  it('produces a JSON Schema from the same zod schema (for the OpenAPI document)', () => {
    const schema = z.toJSONSchema(PriceRecordSchema, { io: 'input' }) as { $defs: Record<string, { required: string[]; properties: Record<string, { pattern?: string; exclusiveMinimum?: number }> }> };
    const def = schema.$defs.PriceRecord!;
    expect(def.required.sort()).toEqual(['close', 'high', 'low', 'open', 'symbol', 'timestamp', 'volume']);
    expect(def.properties.symbol!.pattern).toBe(SYMBOL_PATTERN.source);
    expect(def.properties.open!.exclusiveMinimum).toBe(0);
  });
});

describe('seed generator format', () => {
  const sec = NOW / 1000 - 30.25;

  it('normalizes a seed price record (epoch seconds float) to the canonical record', () => {
    const r = normalizeSeedRecord({ stock_symbol: 'MSFT', opening_price: 410.1, closing_price: 411.2, high: 412, low: 409.5, volume: 1200, timestamp: sec }, opts);
    expect(r).toEqual({ ok: true, kind: 'price', value: { symbol: 'MSFT', timestamp: NOW - 30_250, open: 410.1, high: 412, low: 409.5, close: 411.2, volume: 1200 } });
  });

  it('names seed fields in its errors', () => {
    const r = normalizeSeedRecord({ stock_symbol: 'MSFT', opening_price: 410.1, closing_price: 413, high: 412, low: 409.5, volume: 1200, timestamp: sec }, opts);
    expect(r).toEqual({ ok: false, errors: [{ field: 'high', message: 'high (412) must be >= max(opening_price, closing_price) (413)' }] });
    const s = normalizeSeedRecord({ stock_symbol: 'MSFT', opening_price: '410', closing_price: 413, high: 414, low: 409.5, volume: 1, timestamp: sec }, opts);
    expect(s.ok ? [] : fieldsOf(s.errors)).toEqual(['opening_price']);
    // Epoch ms where seconds are expected lands far in the future.
    const t = normalizeSeedRecord({ stock_symbol: 'MSFT', opening_price: 410, closing_price: 413, high: 414, low: 409.5, volume: 1, timestamp: NOW }, opts);
    expect(t.ok ? '' : t.errors[0]!.message).toMatch(/^timestamp .* is more than 5 minutes after now/);
  });

  it('accepts a canonical price record too', () => {
    expect(normalizeSeedRecord(base, opts)).toEqual({ ok: true, kind: 'price', value: base });
  });

  it('normalizes each typed record to camelCase with a dataType tag', () => {
    const ts = NOW - 30_250;
    expect(normalizeSeedRecord({ data_type: 'order_book', timestamp: sec, stock_symbol: 'AAPL', order_type: 'sell', price: 190.5, quantity: 300 }, opts)).toEqual({
      ok: true, kind: 'typed', value: { dataType: 'order_book', symbol: 'AAPL', timestamp: ts, orderType: 'sell', price: 190.5, quantity: 300 },
    });
    expect(normalizeSeedRecord({ data_type: 'news_sentiment', timestamp: sec, stock_symbol: 'AAPL', sentiment_score: -0.4, sentiment_magnitude: 0.9 }, opts)).toEqual({
      ok: true, kind: 'typed', value: { dataType: 'news_sentiment', symbol: 'AAPL', timestamp: ts, sentimentScore: -0.4, sentimentMagnitude: 0.9 },
    });
    expect(normalizeSeedRecord({ data_type: 'market_data', timestamp: sec, stock_symbol: 'AAPL', market_cap: 2.9e12, pe_ratio: -12.5 }, opts)).toEqual({
      ok: true, kind: 'typed', value: { dataType: 'market_data', symbol: 'AAPL', timestamp: ts, marketCap: 2.9e12, peRatio: -12.5 },
    });
    expect(normalizeSeedRecord({ data_type: 'economic_indicator', timestamp: sec, indicator_name: 'CPI', value: 3.1 }, opts)).toEqual({
      ok: true, kind: 'typed', value: { dataType: 'economic_indicator', indicatorName: 'CPI', timestamp: ts, value: 3.1 },
    });
  });

  it('refuses typed records that break their rules, naming the field', () => {
    const fields = (input: unknown) => {
      const r = normalizeSeedRecord(input, opts);
      return r.ok ? [] : r.errors.map((e) => `${e.field}: ${e.message}`);
    };
    expect(fields({ data_type: 'order_book', timestamp: sec, stock_symbol: 'AAPL', order_type: 'hold', price: 1, quantity: 0 })).toEqual([
      'order_type: order_type must be "buy" or "sell", got the string "hold"',
      'quantity: quantity must be > 0, got 0',
    ]);
    expect(fields({ data_type: 'news_sentiment', timestamp: sec, stock_symbol: 'AAPL', sentiment_score: 1.5, sentiment_magnitude: -0.1 })).toEqual([
      'sentiment_score: sentiment_score must be between -1 and 1, got 1.5',
      'sentiment_magnitude: sentiment_magnitude must be between 0 and 1, got -0.1',
    ]);
    expect(fields({ data_type: 'market_data', timestamp: sec, stock_symbol: 'AAPL', market_cap: 0, pe_ratio: 'n/a' })).toEqual([
      'market_cap: market_cap must be > 0, got 0',
      'pe_ratio: pe_ratio must be a number, got the string "n/a"',
    ]);
    expect(fields({ data_type: 'economic_indicator', timestamp: sec, indicator_name: '', value: 1 })).toEqual(['indicator_name: indicator_name must not be empty']);
    expect(fields({ data_type: 'weather', timestamp: sec })).toEqual([
      'data_type: data_type must be one of order_book, news_sentiment, market_data, economic_indicator, got the string "weather"',
    ]);
    expect(fields({ data_type: 'economic_indicator', timestamp: sec - 8 * 86_400, indicator_name: 'GDP', value: 1 })[0]).toMatch(/^timestamp: timestamp .* is more than 7 days before now/);
  });

  it('accepts already-normalized typed records (dataType, epoch ms)', () => {
    const value = { dataType: 'news_sentiment', symbol: 'AAPL', timestamp: NOW, sentimentScore: 0.2, sentimentMagnitude: 0.3 };
    expect(normalizeSeedRecord(value, opts)).toEqual({ ok: true, kind: 'typed', value });
    const bad = normalizeSeedRecord({ ...value, dataType: 'weather' }, opts);
    expect(bad.ok ? [] : fieldsOf(bad.errors)).toEqual(['dataType']);
  });
});
