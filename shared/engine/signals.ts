/**
 * Signal rules, evaluated on closed bars only (provisional values never fire).
 *
 * rsi-threshold
 *   BUY  when RSI crosses up out of oversold:    previous < oversold  and now >= oversold.
 *   SELL when RSI crosses down out of overbought: previous > overbought and now <= overbought.
 *   Hysteresis: after firing, a side is disarmed until RSI has moved past the
 *   threshold by rearmMargin (BUY re-arms at RSI >= oversold + margin, SELL at
 *   RSI <= overbought - margin), so RSI wobbling around 30 fires once, not on
 *   every wobble.
 * ema-ma-crossover
 *   BUY when EMA - MA turns positive, SELL when it turns negative, compared with
 *   the last non-zero sign: touching zero and returning is not a cross, and the
 *   first sign seen after warm-up is not one either.
 *
 * Cooldown is per (symbol, rule), in bar time: a rule that fired at bar time T
 * stays quiet for bars with time < T + cooldownMs. A signal suppressed by
 * cooldown does not disarm its rule.
 *
 * Idempotency: each signal's id is `${symbol}:${rule}:${barTime}` (readable and
 * unique, since a rule fires at most one side per bar), and a bar whose time is
 * not after the last evaluated bar time yields nothing, so redelivered bars
 * never add signals.
 */
import type { FieldError } from '../schema/records';
import type { IndicatorBar } from './engine';
import type { IndicatorValues } from './indicators';

export type Side = 'BUY' | 'SELL';
export const RULE_NAMES = ['rsi-threshold', 'ema-ma-crossover'] as const;
export type RuleName = (typeof RULE_NAMES)[number];

export interface Signal {
  id: string;
  symbol: string;
  side: Side;
  rule: string;
  price: number;
  barTime: number;
  indicators: IndicatorValues;
  reason: string;
}

export interface RsiThresholdRule {
  enabled: boolean;
  oversold: number;
  overbought: number;
  rearmMargin: number;
  cooldownMs: number;
}

export interface CrossoverRule {
  enabled: boolean;
  cooldownMs: number;
}

export interface RulesConfig {
  rules: { 'rsi-threshold': RsiThresholdRule; 'ema-ma-crossover': CrossoverRule };
  /** Rules run on closed bars only; true is refused by parseRulesConfig until intrabar evaluation exists. */
  intrabar: false;
}

export const DEFAULT_RULES: RulesConfig = Object.freeze({
  rules: Object.freeze({
    'rsi-threshold': Object.freeze({ enabled: true, oversold: 30, overbought: 70, rearmMargin: 5, cooldownMs: 0 }),
    'ema-ma-crossover': Object.freeze({ enabled: true, cooldownMs: 0 }),
  }),
  intrabar: false,
}) as RulesConfig;


export class RulesConfigError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(`invalid rules config: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * Builds a RulesConfig from parsed JSON. Every field is optional and falls
 * back to DEFAULT_RULES; a top-level cooldownMs applies to every rule unless a
 * rule sets its own. Unknown keys are errors (typos should not be ignored).
 * Throws RulesConfigError listing every problem with its field path.
 */
export function parseRulesConfig(json: unknown): RulesConfig {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });
  if (!isObject(json)) throw new RulesConfigError([{ field: '(root)', message: `must be a JSON object, got ${show(json)}` }]);

  const unknownKeys = (obj: Record<string, unknown>, allowed: readonly string[], path: string) => {
    for (const k of Object.keys(obj)) if (!allowed.includes(k)) fail(path ? `${path}.${k}` : k, `unknown key; allowed: ${allowed.join(', ')}`);
  };
  const num = (obj: Record<string, unknown>, key: string, path: string, fallback: number, check: (n: number) => string | null): number => {
    if (!Object.hasOwn(obj, key)) return fallback;
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) { fail(`${path}.${key}`, `must be a finite number, got ${show(v)}`); return fallback; }
    const problem = check(v);
    if (problem) { fail(`${path}.${key}`, `${problem}, got ${v}`); return fallback; }
    return v;
  };
  const bool = (obj: Record<string, unknown>, key: string, path: string, fallback: boolean): boolean => {
    if (!Object.hasOwn(obj, key)) return fallback;
    const v = obj[key];
    if (typeof v !== 'boolean') { fail(`${path}.${key}`, `must be true or false, got ${show(v)}`); return fallback; }
    return v;
  };
  const percent = (n: number) => (n < 0 || n > 100 ? 'must be between 0 and 100' : null);
  const cooldown = (n: number) => (!Number.isInteger(n) || n < 0 ? 'must be a non-negative integer (milliseconds)' : null);

  unknownKeys(json, ['rules', 'cooldownMs', 'intrabar'], '');
  const globalCooldown = num(json, 'cooldownMs', '(root)', 0, cooldown);
  if (Object.hasOwn(json, 'intrabar') && json.intrabar !== false) {
    fail('intrabar', `only false is supported (rules run on closed bars), got ${show(json.intrabar)}`);
  }
  const rules = Object.hasOwn(json, 'rules') ? json.rules : {};
  if (!isObject(rules)) {
    fail('rules', `must be an object keyed by rule name, got ${show(rules)}`);
    throw new RulesConfigError(errors);
  }
  unknownKeys(rules, RULE_NAMES, 'rules');

  const rsiPath = 'rules.rsi-threshold';
  const rsiIn = Object.hasOwn(rules, 'rsi-threshold') ? rules['rsi-threshold'] : {};
  const d = DEFAULT_RULES.rules['rsi-threshold'];
  let rsi: RsiThresholdRule = { ...d, cooldownMs: globalCooldown };
  if (!isObject(rsiIn)) {
    fail(rsiPath, `must be an object, got ${show(rsiIn)}`);
  } else {
    unknownKeys(rsiIn, ['enabled', 'oversold', 'overbought', 'rearmMargin', 'cooldownMs'], rsiPath);
    rsi = {
      enabled: bool(rsiIn, 'enabled', rsiPath, d.enabled),
      oversold: num(rsiIn, 'oversold', rsiPath, d.oversold, percent),
      overbought: num(rsiIn, 'overbought', rsiPath, d.overbought, percent),
      rearmMargin: num(rsiIn, 'rearmMargin', rsiPath, d.rearmMargin, (n) => (n < 0 || n > 100 ? 'must be between 0 and 100' : null)),
      cooldownMs: num(rsiIn, 'cooldownMs', rsiPath, globalCooldown, cooldown),
    };
    if (rsi.oversold >= rsi.overbought) fail(rsiPath, `oversold (${rsi.oversold}) must be below overbought (${rsi.overbought})`);
    if (rsi.oversold + rsi.rearmMargin > 100) fail(`${rsiPath}.rearmMargin`, `oversold + rearmMargin (${rsi.oversold + rsi.rearmMargin}) exceeds 100, so BUY could never re-arm`);
    if (rsi.overbought - rsi.rearmMargin < 0) fail(`${rsiPath}.rearmMargin`, `overbought - rearmMargin (${rsi.overbought - rsi.rearmMargin}) is below 0, so SELL could never re-arm`);
  }

  const xPath = 'rules.ema-ma-crossover';
  const xIn = Object.hasOwn(rules, 'ema-ma-crossover') ? rules['ema-ma-crossover'] : {};
  const dx = DEFAULT_RULES.rules['ema-ma-crossover'];
  let crossover: CrossoverRule = { ...dx, cooldownMs: globalCooldown };
  if (!isObject(xIn)) {
    fail(xPath, `must be an object, got ${show(xIn)}`);
  } else {
    unknownKeys(xIn, ['enabled', 'cooldownMs'], xPath);
    crossover = { enabled: bool(xIn, 'enabled', xPath, dx.enabled), cooldownMs: num(xIn, 'cooldownMs', xPath, globalCooldown, cooldown) };
  }

  if (errors.length > 0) throw new RulesConfigError(errors);
  return { rules: { 'rsi-threshold': rsi, 'ema-ma-crossover': crossover }, intrabar: false };
}

export const RULE_STATE_VERSION = 1;

/** Per-symbol rule memory. Plain JSON. */
export interface RuleState {
  v: typeof RULE_STATE_VERSION;
  /** Values at the previous evaluated bar (null until the indicator warmed up). */
  prevRsi: number | null;
  prevEma: number | null;
  prevMa: number | null;
  /** Last non-zero sign of EMA - MA (0 until known). */
  crossSign: -1 | 0 | 1;
  buyArmed: boolean;
  sellArmed: boolean;
  /** Bar time of each rule's last signal. */
  lastFired: Partial<Record<RuleName, number>>;
  /** Time of the last evaluated bar. */
  lastBarTime: number | null;
}

export function createRuleState(): RuleState {
  return { v: RULE_STATE_VERSION, prevRsi: null, prevEma: null, prevMa: null, crossSign: 0, buyArmed: true, sellArmed: true, lastFired: {}, lastBarTime: null };
}

export function signalId(symbol: string, rule: string, barTime: number): string {
  return `${symbol}:${rule}:${barTime}`;
}

function fmt(x: number): string {
  return Math.abs(x) >= 1000 ? x.toFixed(2) : x.toPrecision(6).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

function coolingDown(state: RuleState, rule: RuleName, cooldownMs: number, barTime: number): boolean {
  const last = state.lastFired[rule];
  return last !== undefined && barTime < last + cooldownMs;
}

function fire(state: RuleState, bar: IndicatorBar, rule: RuleName, side: Side, reason: string): Signal {
  state.lastFired[rule] = bar.time;
  return {
    id: signalId(bar.symbol, rule, bar.time),
    symbol: bar.symbol,
    side,
    rule,
    price: bar.close,
    barTime: bar.time,
    indicators: { ma: bar.ma, ema: bar.ema, rsi: bar.rsi },
    reason,
  };
}

/** Evaluates the rules on a bar that just closed. Mutates state; returns the signals fired. */
export function evaluateBar(state: RuleState, bar: IndicatorBar, rules: RulesConfig): Signal[] {
  if (state.lastBarTime !== null && bar.time <= state.lastBarTime) return [];
  state.lastBarTime = bar.time;
  const signals: Signal[] = [];

  const rsiRule = rules.rules['rsi-threshold'];
  const rsi = bar.rsi;
  if (rsi !== null) {
    const prev = state.prevRsi;
    if (rsiRule.enabled && prev !== null && !coolingDown(state, 'rsi-threshold', rsiRule.cooldownMs, bar.time)) {
      if (state.buyArmed && prev < rsiRule.oversold && rsi >= rsiRule.oversold) {
        state.buyArmed = false;
        signals.push(fire(state, bar, 'rsi-threshold', 'BUY', `RSI rose out of oversold: ${fmt(prev)} -> ${fmt(rsi)} crossed ${rsiRule.oversold} at close ${fmt(bar.close)}`));
      } else if (state.sellArmed && prev > rsiRule.overbought && rsi <= rsiRule.overbought) {
        state.sellArmed = false;
        signals.push(fire(state, bar, 'rsi-threshold', 'SELL', `RSI fell out of overbought: ${fmt(prev)} -> ${fmt(rsi)} crossed ${rsiRule.overbought} at close ${fmt(bar.close)}`));
      }
    }
    if (!state.buyArmed && rsi >= rsiRule.oversold + rsiRule.rearmMargin) state.buyArmed = true;
    if (!state.sellArmed && rsi <= rsiRule.overbought - rsiRule.rearmMargin) state.sellArmed = true;
    state.prevRsi = rsi;
  }

  const xRule = rules.rules['ema-ma-crossover'];
  const { ema, ma } = bar;
  if (ema !== null && ma !== null) {
    const diff = ema - ma;
    const sign = diff > 0 ? 1 : diff < 0 ? -1 : 0;
    if (sign !== 0) {
      const prevSign = state.crossSign;
      if (xRule.enabled && prevSign !== 0 && sign !== prevSign && !coolingDown(state, 'ema-ma-crossover', xRule.cooldownMs, bar.time)) {
        const was = state.prevEma !== null && state.prevMa !== null ? ` (was EMA ${fmt(state.prevEma)} vs MA ${fmt(state.prevMa)})` : '';
        const reason = `EMA crossed ${sign > 0 ? 'above' : 'below'} MA: EMA ${fmt(ema)} vs MA ${fmt(ma)}${was} at close ${fmt(bar.close)}`;
        signals.push(fire(state, bar, 'ema-ma-crossover', sign > 0 ? 'BUY' : 'SELL', reason));
      }
      state.crossSign = sign;
    }
    state.prevEma = ema;
    state.prevMa = ma;
  }
  return signals;
}

export function serializeRuleState(state: RuleState): string {
  return JSON.stringify(state);
}

export class RuleStateError extends Error {}

export function deserializeRuleState(text: string): RuleState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new RuleStateError(`rule state is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(v)) throw new RuleStateError('rule state must be a JSON object');
  if (v.v !== RULE_STATE_VERSION) throw new RuleStateError(`unsupported rule state version ${show(v.v)} (expected ${RULE_STATE_VERSION})`);
  const problems: string[] = [];
  for (const k of ['prevRsi', 'prevEma', 'prevMa', 'lastBarTime']) {
    if (v[k] !== null && !(typeof v[k] === 'number' && Number.isFinite(v[k]))) problems.push(`${k} must be a finite number or null`);
  }
  if (v.crossSign !== -1 && v.crossSign !== 0 && v.crossSign !== 1) problems.push('crossSign must be -1, 0 or 1');
  if (typeof v.buyArmed !== 'boolean' || typeof v.sellArmed !== 'boolean') problems.push('buyArmed and sellArmed must be booleans');
  if (!isObject(v.lastFired)) problems.push('lastFired must be an object');
  else for (const [k, t] of Object.entries(v.lastFired)) {
    if (!(RULE_NAMES as readonly string[]).includes(k) || typeof t !== 'number' || !Number.isFinite(t)) problems.push(`lastFired.${k} must be a known rule with a finite time`);
  }
  if (problems.length > 0) throw new RuleStateError(`invalid rule state: ${problems.join('; ')}`);
  return v as unknown as RuleState;
}
