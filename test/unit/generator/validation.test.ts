/**
 * Every record the generator produces must pass the ingest API's validation,
 * including the recency window at the moment it would be sent live.
 */
import { describe, expect, it } from '@jest/globals';
import { formatFieldErrors, normalizeSeedRecord, validatePriceRecord } from '../../../shared/schema/records';
import { MarketGenerator, type PriceRecord } from '../../../shared/generator/generator';
import { parseGenerateArgs } from '../../../shared/generator/options';
import { planSimulation } from '../../../shared/generator/plan';
import { SCENARIO_NAMES } from '../../../shared/generator/scenarios';
import { TypedRecordGenerator } from '../../../shared/generator/typed';

const LAUNCH = Date.UTC(2025, 5, 3, 13, 0); // any instant works: live timelines are placed relative to it

/** Validates each record as the API would when it arrives at its scheduled send time. */
function invalidRecords(argv: string[]): string[] {
  const opts = parseGenerateArgs(argv, {});
  const plan = planSimulation(opts, LAUNCH);
  const g = new MarketGenerator(plan.generator);
  const problems: string[] = [];
  let i = 0;
  let n = 0;
  for (let r = g.next(); r !== undefined; r = g.next()) {
    n++;
    const now = plan.schedule(r, i++) ?? LAUNCH;
    const checked = validatePriceRecord(r, { now });
    if (!checked.ok && problems.length < 5) problems.push(`${JSON.stringify(r)}: ${formatFieldErrors(checked.errors)}`);
  }
  expect(n).toBe(opts.count);
  return problems;
}

describe('every generated record passes ingest validation when sent live', () => {
  it.each(SCENARIO_NAMES)('%s: trades at a paced rate', (scenario) => {
    expect(invalidRecords(['--scenario', scenario, '--count', '5000', '--rate', '500'])).toEqual([]);
  });

  it.each(SCENARIO_NAMES)('%s: one-minute bars at --rate max (a backfill ending now)', (scenario) => {
    expect(invalidRecords(['--scenario', scenario, '--count', '5000', '--timeframe', '1m', '--rate', 'max'])).toEqual([]);
  });

  it.each(SCENARIO_NAMES)('%s: hourly bars at a paced rate, 25 symbols', (scenario) => {
    expect(invalidRecords(['--scenario', scenario, '--symbols', '25', '--count', '2000', '--timeframe', '1h', '--rate', '50'])).toEqual([]);
  });

  it('daily bars spanning six days (close to the 7-day limit) still pass', () => {
    expect(invalidRecords(['--scenario', 'crash', '--count', '60', '--timeframe', '1d', '--rate', 'max'])).toEqual([]);
  });
});

describe('every record of a file passes the schema (the recency window does not apply to files)', () => {
  it.each(SCENARIO_NAMES)('%s: 30,000 one-minute bars over 10 symbols', (scenario) => {
    const opts = parseGenerateArgs(['--scenario', scenario, '--count', '30000', '--timeframe', '1m', '--out', 'x.csv'], {});
    const g = new MarketGenerator(planSimulation(opts, LAUNCH).generator);
    let bad = 0;
    let first: string | undefined;
    for (let r = g.next(); r !== undefined; r = g.next()) {
      const checked = validatePriceRecord(r, { recencyCheck: false });
      if (!checked.ok) {
        bad++;
        first ??= `${JSON.stringify(r)}: ${formatFieldErrors(checked.errors)}`;
      }
    }
    expect({ bad, first }).toEqual({ bad: 0, first: undefined });
  });

  it('daily bars for 20 years of a volatile market keep valid, positive prices', () => {
    const opts = parseGenerateArgs(['--scenario', 'volatile', '--symbols', '3', '--count', '15000', '--timeframe', '1d', '--out', 'x.csv'], {});
    const records: PriceRecord[] = [...new MarketGenerator(planSimulation(opts, LAUNCH).generator)];
    expect(records.filter((r) => !validatePriceRecord(r, { recencyCheck: false }).ok)).toEqual([]);
  });
});

describe('typed records are in the seed format the ingest API accepts', () => {
  it('all four kinds validate through normalizeSeedRecord', () => {
    const opts = parseGenerateArgs(['--count', '2000'], {});
    const g = new MarketGenerator(planSimulation(opts, LAUNCH).generator);
    const typed = new TypedRecordGenerator(1, opts.symbols);
    const kinds = new Map<string, number>();
    const problems: string[] = [];
    for (let r = g.next(); r !== undefined; r = g.next()) {
      const t = typed.next(r.timestamp, (i) => g.price(i));
      kinds.set(t.data_type, (kinds.get(t.data_type) ?? 0) + 1);
      const checked = normalizeSeedRecord(t, { now: r.timestamp });
      if (!checked.ok) problems.push(`${JSON.stringify(t)}: ${formatFieldErrors(checked.errors)}`);
      else expect(checked.kind).toBe('typed');
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect([...kinds.keys()].sort()).toEqual(['economic_indicator', 'market_data', 'news_sentiment', 'order_book']);
  });
});
