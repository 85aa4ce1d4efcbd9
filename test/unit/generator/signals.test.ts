/**
 * Every preset is meant to make the signal rules fire: RSI leaving 30/70 and
 * EMA/MA crossings within a few hundred bars per symbol. Checked with the
 * project's own engine and rules, in-process and through the replay command.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyRecord, createSymbolState, flushSymbol, type EngineConfig } from '../../../shared/engine/engine';
import { DEFAULT_PERIODS } from '../../../shared/engine/indicators';
import { createRuleState, DEFAULT_RULES, evaluateBar, type Signal } from '../../../shared/engine/signals';
import { CSV_HEADER, toCsvLine } from '../../../shared/generator/csv';
import { MarketGenerator, type PriceRecord } from '../../../shared/generator/generator';
import { DEFAULT_FILE_START_MS } from '../../../shared/generator/plan';
import { SCENARIO_NAMES, type ScenarioName } from '../../../shared/generator/scenarios';
import { universeOfSize } from '../../../shared/generator/universe';

const BARS = 300;
const SYMBOLS = 10;
const cfg: EngineConfig = { timeframe: '1m', periods: DEFAULT_PERIODS };

function generate(scenario: ScenarioName, seed = 1): PriceRecord[] {
  return [
    ...new MarketGenerator({
      seed, scenario, symbols: universeOfSize(SYMBOLS), timeframeMs: 60_000, tickRate: 100,
      startMs: DEFAULT_FILE_START_MS, clock: 'calendar', count: BARS * SYMBOLS,
    }),
  ];
}

function signalsBySymbol(records: readonly PriceRecord[]): Map<string, Signal[]> {
  const engines = new Map<string, ReturnType<typeof createSymbolState>>();
  const rules = new Map<string, ReturnType<typeof createRuleState>>();
  const out = new Map<string, Signal[]>();
  const evaluate = (symbol: string, bars: Parameters<typeof evaluateBar>[1][]) => {
    for (const bar of bars) (out.get(symbol) as Signal[]).push(...evaluateBar(rules.get(symbol) as ReturnType<typeof createRuleState>, bar, DEFAULT_RULES));
  };
  for (const r of records) {
    if (!engines.has(r.symbol)) {
      engines.set(r.symbol, createSymbolState(r.symbol, cfg));
      rules.set(r.symbol, createRuleState());
      out.set(r.symbol, []);
    }
    const result = applyRecord(engines.get(r.symbol) as ReturnType<typeof createSymbolState>, r, cfg);
    expect(result.late).toBe(false);
    evaluate(r.symbol, result.closed);
  }
  for (const [symbol, state] of engines) evaluate(symbol, flushSymbol(state, cfg));
  return out;
}

describe('each preset fires the signal rules within a few hundred bars', () => {
  it.each(SCENARIO_NAMES)('%s: every symbol gets both a BUY and a SELL within 300 one-minute bars', (scenario) => {
    const bySymbol = signalsBySymbol(generate(scenario));
    expect(bySymbol.size).toBe(SYMBOLS);
    for (const [symbol, signals] of bySymbol) {
      const sides = new Set(signals.map((s) => s.side));
      expect({ symbol, buy: sides.has('BUY'), sell: sides.has('SELL') }).toEqual({ symbol, buy: true, sell: true });
    }
  });

  it.each(SCENARIO_NAMES)('%s: both rules fire on both sides (RSI out of 30/70 and EMA/MA crossings)', (scenario) => {
    const all = [...signalsBySymbol(generate(scenario)).values()].flat();
    const kinds = new Set(all.map((s) => `${s.rule} ${s.side}`));
    expect([...kinds].sort()).toEqual(['ema-ma-crossover BUY', 'ema-ma-crossover SELL', 'rsi-threshold BUY', 'rsi-threshold SELL']);
  });
});

describe('through the replay command', () => {
  it('each preset triggers both BUY and SELL signals in `npm run replay`', () => {
    // One file for all presets (one replay process keeps the test fast): symbols carry
    // their preset's index as a suffix, so each symbol's rows stay in time order.
    let csv = CSV_HEADER;
    SCENARIO_NAMES.forEach((scenario, i) => {
      for (const r of generate(scenario, 7)) csv += toCsvLine({ ...r, symbol: `${r.symbol}-${i}` });
    });
    const dir = mkdtempSync(join(tmpdir(), 'generator-replay-'));
    try {
      const file = join(dir, 'all-presets.csv');
      writeFileSync(file, csv);
      const res = spawnSync(process.execPath, ['--import', 'tsx', 'cli/replay.ts', '--input', file, '--timeframe', '1m', '--flush', '--quiet'], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(res.stderr).not.toMatch(/line \d+:/); // no row rejected
      expect(res.status).toBe(0);
      const sidesByPreset = new Map<string, Set<string>>(SCENARIO_NAMES.map((s) => [s, new Set()]));
      let rows = 0;
      for (const line of res.stdout.split('\n')) {
        if (!line) continue;
        const row = JSON.parse(line) as { symbol: string; signals: Array<{ side: string }> };
        rows++;
        const preset = SCENARIO_NAMES[Number(row.symbol.split('-').pop())] as string;
        for (const s of row.signals) sidesByPreset.get(preset)?.add(s.side);
      }
      expect(rows).toBeGreaterThanOrEqual(SCENARIO_NAMES.length * BARS * SYMBOLS);
      for (const [preset, sides] of sidesByPreset) expect({ preset, sides: [...sides].sort() }).toEqual({ preset, sides: ['BUY', 'SELL'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
