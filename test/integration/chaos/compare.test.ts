/**
 * The comparison and the verdict on hand-built run outcomes: every difference the
 * harness must catch, and the duplicate-notification window. Pure logic.
 */
import { describe, expect, it } from '@jest/globals';
import { canonical, compareRuns, countDeliveries, type BarRow, type RunOutcome } from '../../../shared/chaos/compare';
import { recoveryTimes } from '../../../shared/chaos/recovery';
import { duplicatesByCause } from '../../../shared/chaos/report';
import { attributeDuplicates, verdict, type InjectedFault } from '../../../shared/chaos/verdict';

function bar(symbol: string, interval: string, start: number, trades: number, volume = trades * 10): BarRow {
  return { symbol, interval, start, open: 1, high: 2, low: 0.5, close: 1.5, volume, pv: volume * 1.2, trades };
}

function outcome(over: Partial<RunOutcome> = {}): RunOutcome {
  return {
    input: { records: 5, digest: 'abc' },
    states: { AAPL: { engine: { ind: { ema: 1.5 } }, offsets: { 0: 4 } } },
    snapshots: { AAPL: { lastPrice: 1.5 } },
    bars: [bar('AAPL', '1m', 0, 3), bar('AAPL', '1m', 60_000, 2), bar('AAPL', '5m', 0, 5)],
    signals: [{ id: 'AAPL:rsi:60000', side: 'BUY', price: 1.5 }],
    recent: ['AAPL:rsi:60000'],
    deliveries: [{ id: 'AAPL:rsi:60000', sentAt: 1000 }],
    signalMessages: { total: 1, distinct: 1 },
    deadLetters: {},
    ...over,
  };
}

describe('compareRuns', () => {
  it('finds nothing between two identical runs, whatever the key order of their objects', () => {
    const c = compareRuns(outcome(), outcome({ states: { AAPL: { offsets: { 0: 4 }, engine: { ind: { ema: 1.5 } } } } }));
    expect(c.inputIdentical).toBe(true);
    expect(c.states.differing).toEqual([]);
    expect(c.bars).toMatchObject({ lost: [], extra: [], differing: [], ticksLost: 0, ticksDoubled: 0 });
    expect(c.signals).toMatchObject({ lost: [], extra: [], differing: [] });
    expect(c.notifications.neverNotified).toEqual([]);
  });

  it('counts a tick applied twice as doubled, and a missing bar as lost with all its ticks', () => {
    const fault = outcome({ bars: [bar('AAPL', '1m', 0, 4, 30), bar('AAPL', '5m', 0, 6)] });
    const c = compareRuns(outcome(), fault);
    expect(c.bars.differing).toEqual(['AAPL/1m/0', 'AAPL/5m/0']);
    expect(c.bars.lost).toEqual(['AAPL/1m/60000']);
    expect(c.bars.ticksDoubled).toBe(1);
    expect(c.bars.ticksLost).toBe(2);
  });

  it('tells lost, extra and altered signals apart, and signals nobody was notified of', () => {
    const fault = outcome({
      signals: [{ id: 'AAPL:rsi:60000', side: 'BUY', price: 1.6 }, { id: 'AAPL:ema:120000', side: 'SELL', price: 1.4 }],
      deliveries: [],
    });
    const c = compareRuns(outcome(), fault);
    expect(c.signals.differing).toEqual(['AAPL:rsi:60000']);
    expect(c.signals.extra).toEqual(['AAPL:ema:120000']);
    expect(c.notifications.neverNotified).toEqual(['AAPL:ema:120000', 'AAPL:rsi:60000']);
  });

  it('sees a different input, which voids the comparison', () => {
    expect(compareRuns(outcome(), outcome({ input: { records: 5, digest: 'abd' } })).inputIdentical).toBe(false);
    expect(compareRuns(outcome(), outcome({ input: { records: 6, digest: 'abc' } })).inputIdentical).toBe(false);
  });

  it('notices a missing state key and a differing snapshot', () => {
    const c = compareRuns(outcome(), outcome({ states: { AAPL: null }, snapshots: { AAPL: { lastPrice: 1.4 } } }));
    expect(c.states.differing).toEqual(['AAPL']);
    expect(c.snapshots.differing).toEqual(['AAPL']);
  });
});

describe('countDeliveries and canonical', () => {
  it('counts every delivery after the first per id as a duplicate', () => {
    const n = countDeliveries([{ id: 'a', sentAt: 1 }, { id: 'a', sentAt: 2 }, { id: 'a', sentAt: 3 }, { id: 'b', sentAt: 1 }]);
    expect(n).toEqual({ deliveries: 4, distinct: 2, duplicates: 2, duplicatedIds: ['a'] });
  });
  it('writes objects with sorted keys at every depth', () => {
    expect(canonical({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
  });
});

describe('attributeDuplicates', () => {
  const kill = (target: 'notify' | 'process', at: number): InjectedFault => ({ kind: 'kill', n: 1, target, aim: 'mid-batch', at, pid: 1, midBatch: true, midTransaction: false });
  const twice = [{ id: 's1', sentAt: 10_000 }, { id: 's1', sentAt: 14_000 }];

  it('explains a duplicate by a kill of notify between its deliveries', () => {
    const r = attributeDuplicates(twice, [kill('notify', 12_000)]);
    expect(r.unexplained).toEqual([]);
    expect(r.explained).toEqual([{ id: 's1', deliveries: 2, causes: ['kill #1 of notify'] }]);
  });

  it('does not let a kill of another stage, or a notify kill long before, explain it', () => {
    expect(attributeDuplicates(twice, [kill('process', 12_000)]).unexplained.map((d) => d.id)).toEqual(['s1']);
    expect(attributeDuplicates(twice, [kill('notify', 5_000)]).unexplained.map((d) => d.id)).toEqual(['s1']);
  });

  it('explains a duplicate by an SNS stall that ended just before the first delivery', () => {
    const stall: InjectedFault = { kind: 'sns-stop', at: 0, endedAt: 9_500 };
    expect(attributeDuplicates(twice, [stall]).explained.map((d) => d.causes)).toEqual([['sns-stop']]);
    // A broker restart is not a cause: notify's marker survives it.
    expect(attributeDuplicates(twice, [{ kind: 'kafka-restart', at: 11_000, endedAt: 12_000 }]).unexplained).toHaveLength(1);
  });

  it('fails the verdict for an unexplained duplicate and passes it once explained', () => {
    const base = {
      comparison: compareRuns(outcome(), outcome({ deliveries: twice.map((d) => ({ ...d, id: 'AAPL:rsi:60000' })) })),
      skipped: [], exhaustedDeadLetters: { clean: 0, fault: 0 }, drained: { clean: true, fault: true }, plannedKills: 0,
      faultDeliveries: twice.map((d) => ({ ...d, id: 'AAPL:rsi:60000' })),
    };
    const bad = verdict({ ...base, faults: [] });
    expect(bad.ok).toBe(false);
    expect(bad.checks.find((c) => c.name.startsWith('duplicate'))?.ok).toBe(false);
    expect(verdict({ ...base, faults: [kill('notify', 12_000)] }).ok).toBe(true);
  });

  it('fails the verdict on a dead letter from exhausted retries, a planned fault skipped, or a run that did not drain', () => {
    const base = {
      comparison: compareRuns(outcome(), outcome()), faults: [], faultDeliveries: outcome().deliveries,
      skipped: [], exhaustedDeadLetters: { clean: 0, fault: 0 }, drained: { clean: true, fault: true }, plannedKills: 0,
    };
    expect(verdict(base).ok).toBe(true);
    expect(verdict({ ...base, exhaustedDeadLetters: { clean: 0, fault: 1 } }).ok).toBe(false);
    expect(verdict({ ...base, skipped: [{ kind: 'sns-stop', reason: 'no moto' }] }).ok).toBe(false);
    expect(verdict({ ...base, drained: { clean: true, fault: false } }).ok).toBe(false);
    expect(verdict({ ...base, plannedKills: 1 }).ok).toBe(false);
  });
});

describe('recoveryTimes', () => {
  it('measures from the end of an outage to the first sample back at the caught-up lag', () => {
    const samples = [
      { t: 0, lag: 5 }, { t: 1000, lag: 300 }, { t: 2000, lag: null }, { t: 3000, lag: 900 },
      { t: 4000, lag: 400 }, { t: 5000, lag: 40 }, { t: 6000, lag: 3 },
    ];
    const r = recoveryTimes(samples, [{ kind: 'redis-down', at: 500, endedAt: 3500 }], 50);
    expect(r).toEqual([{ fault: 'redis-down', endedAt: 3500, recoveryMs: 1500, peakLag: 900 }]);
  });
  it('reports null when the lag never came back down', () => {
    const r = recoveryTimes([{ t: 0, lag: 100 }, { t: 1000, lag: 200 }], [{ kind: 'sns-down', at: 0, endedAt: 500 }], 50);
    expect(r[0]!.recoveryMs).toBeNull();
  });
});

describe('duplicatesByCause', () => {
  it('counts extra deliveries per cause, folding notify kills together and flagging the unexplained', () => {
    const r = {
      duplicates: {
        explained: [
          { id: 'a', deliveries: 2, causes: ['kill #3 of notify'] },
          { id: 'b', deliveries: 3, causes: ['kill #9 of notify'] },
          { id: 'c', deliveries: 2, causes: ['sns-stop', 'kill #4 of notify'] },
        ],
        unexplained: [{ id: 'd', deliveries: 2, causes: [] }],
      },
    };
    expect(duplicatesByCause(r)).toEqual({ 'notify killed': 3, 'notify killed + sns-stop': 1, UNEXPLAINED: 1 });
  });
});
