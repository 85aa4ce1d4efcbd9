import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../../../shared/api/cursor';
import { ApiError } from '../../../shared/api/errors';
import { parseQuery, parseSymbol, readQuery } from '../../../shared/api/params';
import { BarsQuerySchema, SignalsQuerySchema } from '../../../shared/api/schemas';

function fieldsOf(fn: () => unknown): { field: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) {
      expect(err.statusCode).toBe(400);
      return err.fields ?? [];
    }
    throw err;
  }
  throw new Error('expected a 400');
}

describe('limit', () => {
  it.each(['1e9', '1000000000', '1001', '0', '-1', '10.5', '', ' 10', '0x10', '10,20', 'NaN'])('refuses %j with a field error', (limit) => {
    const fields = fieldsOf(() => parseQuery(BarsQuerySchema, { limit }));
    expect(fields).toEqual([{ field: 'limit', message: expect.stringContaining('limit must be an integer from 1 to 1000') }]);
  });

  it('accepts 1 to 1000 and leaves the default to the route', () => {
    expect(parseQuery(BarsQuerySchema, { limit: '1' }).limit).toBe(1);
    expect(parseQuery(BarsQuerySchema, { limit: '1000' }).limit).toBe(1000);
    expect(parseQuery(BarsQuerySchema, {}).limit).toBeUndefined();
  });
});

describe('time parameters', () => {
  it('accepts epoch ms and ISO-8601 with a zone', () => {
    const q = parseQuery(BarsQuerySchema, { from: '1714570200000', to: '2024-05-01T14:30:00+01:00' });
    expect(q.from).toBe(Date.UTC(2024, 4, 1, 13, 30));
    expect(q.to).toBe(Date.UTC(2024, 4, 1, 13, 30));
  });

  it.each([
    ['2024-05-01T13:30:00', /has a time but no zone/],
    ['2024-02-30', /day 30/],
    ['yesterday', /epoch milliseconds or an ISO-8601/],
    ['1'.repeat(41), /too long/],
  ])('refuses %j', (from, message) => {
    expect(fieldsOf(() => parseQuery(BarsQuerySchema, { from }))).toEqual([{ field: 'from', message: expect.stringMatching(message) }]);
  });
});

describe('query strictness', () => {
  it('names unknown parameters', () => {
    expect(fieldsOf(() => parseQuery(BarsQuerySchema, { limt: '5', timeframe: '1m' }))).toEqual([
      { field: 'limt', message: 'unknown query parameter "limt"' },
      { field: 'timeframe', message: 'unknown query parameter "timeframe"' },
    ]);
  });

  it('reports every bad parameter at once', () => {
    const fields = fieldsOf(() => parseQuery(SignalsQuerySchema, { side: 'HOLD', symbol: "' OR 1=1 --", limit: '1e9' }));
    expect(fields.map((f) => f.field).sort()).toEqual(['limit', 'side', 'symbol']);
  });

  it('refuses __proto__ and constructor as parameters instead of dropping them', () => {
    const fromJson = JSON.parse('{"rawQueryString":"","queryStringParameters":{"__proto__":"1"}}') as { rawQueryString: string; queryStringParameters: Record<string, string> };
    expect(fieldsOf(() => parseQuery(BarsQuerySchema, readQuery(fromJson))).map((f) => f.field)).toEqual(['__proto__']);
    expect(fieldsOf(() => parseQuery(BarsQuerySchema, readQuery({ rawQueryString: '__proto__=1&constructor=2' }))).map((f) => f.field)).toEqual(['__proto__', 'constructor']);
  });

  it('reads repeated raw parameters the way API Gateway does (comma-joined), so they fail validation', () => {
    expect({ ...readQuery({ rawQueryString: 'limit=1&limit=2&interval=5m' }) }).toEqual({ limit: '1,2', interval: '5m' });
    expect({ ...readQuery({ rawQueryString: '', queryStringParameters: { a: 'b' } }) }).toEqual({ a: 'b' });
  });
});

describe('parseSymbol', () => {
  it('accepts symbols and upper-cases ASCII letters', () => {
    expect(parseSymbol('AAPL')).toEqual({ ok: true, symbol: 'AAPL' });
    expect(parseSymbol('brk.b')).toEqual({ ok: true, symbol: 'BRK.B' });
  });

  it.each([
    "AAPL' OR '1'='1",
    'AAPL;DROP TABLE bars',
    '../../etc/passwd',
    '..\\..\\windows',
    'ÄAPL',
    'ß',
    'AAPL\u0000',
    '',
    ' AAPL',
  ])('refuses %j', (raw) => {
    const r = parseSymbol(raw);
    expect(r.ok).toBe(false);
  });

  it('says how long is too long', () => {
    expect(parseSymbol('A'.repeat(13))).toEqual({ ok: false, error: { field: 'symbol', message: 'symbol must be at most 12 characters, got 13' } });
  });

  it('never echoes more than a short prefix of hostile input', () => {
    const r = parseSymbol(`${'<script>'.repeat(100_000)}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message.length).toBeLessThan(200);
  });

  it('only ever returns symbols that match the symbol pattern', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (s) => {
        const r = parseSymbol(s);
        if (r.ok) expect(r.symbol).toMatch(/^[A-Z0-9.-]{1,12}$/);
      }),
    );
  });
});

describe('cursors', () => {
  const key = z.object({ barTime: z.number().int(), id: z.string() });
  const filters = { symbol: 'AAPL', side: 'BUY' };

  it('round-trip a key for the same route and filters', () => {
    const c = encodeCursor('signals', filters, { barTime: 5, id: 'x' });
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c, 'signals', { side: 'BUY', symbol: 'AAPL' }, key)).toEqual({ barTime: 5, id: 'x' });
  });

  it('refuses a cursor used with other filters or another route', () => {
    const c = encodeCursor('signals', filters, { barTime: 5, id: 'x' });
    expect(fieldsOf(() => decodeCursor(c, 'signals', { ...filters, side: 'SELL' }, key))).toEqual([{ field: 'cursor', message: expect.stringContaining('different filters') }]);
    expect(fieldsOf(() => decodeCursor(c, 'bars', filters, key))).toEqual([{ field: 'cursor', message: expect.stringContaining('not a cursor issued by this API') }]);
  });

  it('refuses garbage and tampered keys with a 400, never an exception', () => {
    const tampered = encodeCursor('signals', filters, { barTime: 'DROP TABLE', id: 1 });
    for (const c of ['', 'abc', 'eyJ2IjoxfQ', tampered, Buffer.from('{"v":2}').toString('base64url')]) {
      expect(fieldsOf(() => decodeCursor(c, 'signals', filters, key))[0]?.field).toBe('cursor');
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        expect(fieldsOf(() => decodeCursor(Buffer.from(s).toString('base64url'), 'signals', filters, key))[0]?.field).toBe('cursor');
      }),
      { numRuns: 200 },
    );
  });
});
