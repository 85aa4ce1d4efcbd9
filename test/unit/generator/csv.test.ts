import { describe, expect, it } from '@jest/globals';
import { CSV_HEADER, parseReplayCsv, toCsvLine } from '../../../shared/generator/csv';
import { MarketGenerator } from '../../../shared/generator/generator';
import { universeOfSize } from '../../../shared/generator/universe';

describe('replay CSV', () => {
  it('writes the header the replay command expects', () => {
    expect(CSV_HEADER).toBe('symbol,timestamp,open,high,low,close,volume\n');
    expect(toCsvLine({ symbol: 'BRK.B', timestamp: 1704205800000, open: 410, high: 410.5, low: 409.99, close: 410.01, volume: 1200 })).toBe(
      'BRK.B,1704205800000,410,410.5,409.99,410.01,1200\n',
    );
  });

  it('round-trips generated records exactly', () => {
    const records = [...new MarketGenerator({ seed: 5, scenario: 'crash', symbols: universeOfSize(10), timeframeMs: 60_000, tickRate: 100, startMs: 0, clock: 'continuous', count: 2000 })];
    const parsed = parseReplayCsv(CSV_HEADER + records.map(toCsvLine).join(''));
    expect(parsed.errors).toEqual([]);
    expect(parsed.records).toEqual(records);
  });

  it('accepts columns in any order and ISO timestamps', () => {
    const parsed = parseReplayCsv('timestamp,symbol,volume,open,high,low,close,extra\n2024-01-02T14:30:00Z,AAPL,10,1,2,0.5,1.5,x\n');
    expect(parsed.errors).toEqual([]);
    expect(parsed.records).toEqual([{ symbol: 'AAPL', timestamp: Date.UTC(2024, 0, 2, 14, 30), open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 }]);
  });

  it('reports bad rows by line number with field-level reasons', () => {
    const text = [
      'symbol,timestamp,open,high,low,close,volume',
      'AAPL,1704205800000,10,11,9,10.5,100',
      'aapl,1704205800000,10,11,9,10.5,100',
      '',
      'MSFT,1704205800000,10,9.5,9,10.5,100',
      'MSFT,1704205800000,ten,11,9,10.5,-1',
      'MSFT,1704205800000,10,11',
      'MSFT,2024-01-02T14:30:00,10,11,9,10.5,1',
    ].join('\n');
    const parsed = parseReplayCsv(text);
    expect(parsed.records).toHaveLength(1);
    expect(parsed.lines).toEqual([2]);
    const byLine = new Map(parsed.errors.map((e) => [e.line, e.errors.join(' | ')]));
    expect([...byLine.keys()]).toEqual([3, 5, 6, 7, 8]);
    expect(byLine.get(3)).toContain('symbol "aapl" must be 1 to 12 characters');
    expect(byLine.get(5)).toContain('high (9.5) must be >= max(open, close) (10.5)');
    expect(byLine.get(6)).toMatch(/open must be .*"ten"/);
    expect(byLine.get(6)).toContain('volume must be >= 0, got -1');
    expect(byLine.get(7)).toContain('expected 7 fields');
    expect(byLine.get(8)).toContain('has a time but no zone');
  });

  it('explains a missing header or an empty file', () => {
    expect(parseReplayCsv('').errors[0]?.errors[0]).toContain('the file is empty');
    expect(parseReplayCsv('symbol,time,open,high,low,close,volume\n').errors).toEqual([
      { line: 1, errors: ['header is missing column(s) timestamp; expected "symbol,timestamp,open,high,low,close,volume"'] },
    ]);
  });
});
