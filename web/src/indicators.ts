import { DEFAULT_PERIODS, createIndicatorState, updateIndicators, type IndicatorPeriods } from '../../shared/engine/indicators';

/**
 * The chart's MA/EMA/RSI lines come from the engine's own functions, bundled in,
 * so the dashboard shows exactly the numbers the pipeline computes and signals on.
 * The last bar may still be open; its values are then provisional, as the engine's peek.
 */

export type { IndicatorPeriods };
export { DEFAULT_PERIODS };

export interface IndicatorSeries { ma: (number | null)[]; ema: (number | null)[]; rsi: (number | null)[] }

export function computeIndicatorSeries(closes: readonly number[], periods: IndicatorPeriods = DEFAULT_PERIODS): IndicatorSeries {
  const state = createIndicatorState(periods);
  const out: IndicatorSeries = { ma: [], ema: [], rsi: [] };
  for (const close of closes) {
    const v = updateIndicators(state, close);
    out.ma.push(v.ma);
    out.ema.push(v.ema);
    out.rsi.push(v.rsi);
  }
  return out;
}
