import { readFileSync } from 'node:fs';
import { getNumberFromEnv, getStringFromEnv } from '../config';
import type { EngineConfig, Timeframe } from '../engine/engine';
import { DEFAULT_RULES, parseRulesConfig, type RulesConfig } from '../engine/signals';

const TIMEFRAMES: readonly Timeframe[] = ['tick', '1m', '5m', '15m', '1h', '1d'];

/** Indicator periods and bar timeframe are per deployment: TIMEFRAME, MA_PERIOD, EMA_PERIOD, RSI_PERIOD. */
export function loadEngineConfig(env: Record<string, string | undefined> = process.env): EngineConfig {
  const timeframe = getStringFromEnv('TIMEFRAME', { env, default: '1m' }) as Timeframe;
  if (!TIMEFRAMES.includes(timeframe)) throw new Error(`Environment variable TIMEFRAME must be one of ${TIMEFRAMES.join(', ')}, got "${timeframe}"`);
  const period = (name: string, def: number) => getNumberFromEnv(name, { env, default: def, integer: true, min: 2, max: 500 });
  return { timeframe, periods: { ma: period('MA_PERIOD', 20), ema: period('EMA_PERIOD', 20), rsi: period('RSI_PERIOD', 14) } };
}

/** Signal rules are data: RULES_JSON holds the JSON itself, RULES_FILE a path to it. */
export function loadRulesConfig(env: Record<string, string | undefined> = process.env): RulesConfig {
  const inline = env.RULES_JSON;
  const file = env.RULES_FILE;
  if (!inline && !file) return DEFAULT_RULES;
  const text = inline ?? readFileSync(file!, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${inline ? 'RULES_JSON' : `RULES_FILE ${file}`} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseRulesConfig(json);
}
