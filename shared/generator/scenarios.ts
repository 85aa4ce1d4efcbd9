/**
 * Scenario presets. Every quantity is expressed per model step ("bar") and in
 * units of the symbol's own per-bar volatility, so a preset has the same shape
 * at 1-minute and at daily bars: a trend of 0.12σ per bar is a visible trend at
 * any timeframe, and a regime of ~200 bars lasts ~200 bars. That is what lets
 * every preset make the RSI leave its 30/70 zones and the EMA cross the MA
 * within a few hundred bars whatever --timeframe is chosen.
 */

export const REGIMES = ['bull', 'bear', 'sideways', 'volatile'] as const;
export type Regime = (typeof REGIMES)[number];

export interface RegimeParams {
  /** Drift per bar, in units of the symbol's base per-bar σ (sign = direction). */
  drift: number;
  /** Multiplies the diffusive volatility while the regime lasts. */
  volMult: number;
  /** Multiplies both jump intensities. */
  jumpMult: number;
  /** Mean regime length in bars (durations are exponential: the chain is Markov). */
  meanBars: number;
  /** Relative weights of the regime entered next; a single entry makes a fixed cycle. */
  next: Partial<Record<Regime, number>>;
  /** Ornstein–Uhlenbeck pull per bar toward the level at which the regime began (0 = none). */
  meanReversion: number;
}

export interface ScenarioParams {
  name: ScenarioName;
  description: string;
  /** Scales every symbol's annual volatility. */
  volScale: number;
  /**
   * GARCH(1,1) with a GJR leverage term, on the variance ratio h (mean 1):
   * h' = kappa + (1 - kappa - alpha - gamma/2)·h + h·(alpha + gamma·[z<0])·z².
   * alpha = 0 switches clustering off.
   */
  garch: { alpha: number; gamma: number; kappa: number };
  /** Merton jumps: expected counts per bar, and the jump size in σ units ~ N(mean, sd). */
  jumps: { marketPerBar: number; idioPerBar: number; meanSigma: number; sdSigma: number };
  initial: Regime;
  regimes: Record<Regime, RegimeParams>;
  /** Symbol-level OU segments that begin at random, independently of the market regime. */
  ouSegments: { startPerBar: number; meanBars: number; pull: number };
  /**
   * Short-lived order-flow momentum: an AR(1) drift per symbol (σ units, memory
   * in bars). Real intraday series have these runs; without them RSI(14) of a
   * near-random walk reaches 30/70 only every few hundred bars. It costs a
   * small positive lag-1 autocorrelation of returns (≈ sd²·e^(−1/bars)).
   */
  momentum: { sd: number; bars: number };
}

export const SCENARIO_NAMES = ['calm', 'trending', 'volatile', 'crash', 'mean-revert', 'mixed'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

const NO_GARCH = { alpha: 0, gamma: 0, kappa: 1 };
const NO_JUMPS = { marketPerBar: 0, idioPerBar: 0, meanSigma: 0, sdSigma: 0 };
const NO_OU = { startPerBar: 0, meanBars: 1, pull: 0 };
const MOMENTUM = { sd: 0.2, bars: 15 };

function regime(p: Partial<RegimeParams> & Pick<RegimeParams, 'meanBars' | 'next'>): RegimeParams {
  return { drift: 0, volMult: 1, jumpMult: 1, meanReversion: 0, ...p };
}

export const SCENARIOS: Record<ScenarioName, ScenarioParams> = {
  // Constant volatility, Gaussian shocks, slow small drifts: the returns are as
  // close to i.i.d. normal as a market gets (the control for the statistics tests).
  calm: {
    name: 'calm',
    description: 'low, constant volatility; gentle drifts; no jumps or clustering',
    volScale: 0.6,
    garch: NO_GARCH,
    jumps: NO_JUMPS,
    initial: 'bull',
    regimes: {
      bull: regime({ drift: 0.03, meanBars: 300, next: { bear: 1 } }),
      bear: regime({ drift: -0.03, meanBars: 300, next: { bull: 1 } }),
      sideways: regime({ meanBars: 300, next: { bull: 1 } }),
      volatile: regime({ meanBars: 300, next: { bull: 1 } }),
    },
    ouSegments: NO_OU,
    momentum: { sd: 0.15, bars: 15 },
  },
  trending: {
    name: 'trending',
    description: 'long bull and bear trends separated by short pauses',
    volScale: 0.9,
    garch: { alpha: 0.04, gamma: 0.02, kappa: 0.03 },
    jumps: { marketPerBar: 0.0005, idioPerBar: 0.001, meanSigma: 0, sdSigma: 3 },
    initial: 'bull',
    regimes: {
      bull: regime({ drift: 0.15, meanBars: 120, next: { sideways: 2, bear: 1 } }),
      bear: regime({ drift: -0.15, meanBars: 110, next: { sideways: 2, bull: 1 } }),
      sideways: regime({ meanBars: 40, meanReversion: 0.03, next: { bull: 1, bear: 1 } }),
      volatile: regime({ volMult: 1.5, meanBars: 40, next: { bull: 1, bear: 1 } }),
    },
    ouSegments: NO_OU,
    momentum: MOMENTUM,
  },
  volatile: {
    name: 'volatile',
    description: 'strong volatility clustering, leverage effect and fat-tailed jumps',
    volScale: 1.5,
    garch: { alpha: 0.1, gamma: 0.06, kappa: 0.02 },
    jumps: { marketPerBar: 0.002, idioPerBar: 0.003, meanSigma: -0.5, sdSigma: 4 },
    initial: 'volatile',
    regimes: {
      bull: regime({ drift: 0.05, meanBars: 120, next: { volatile: 2, bear: 1 } }),
      bear: regime({ drift: -0.05, meanBars: 120, next: { volatile: 2, bull: 1 } }),
      sideways: regime({ meanBars: 80, meanReversion: 0.02, next: { volatile: 1 } }),
      volatile: regime({ volMult: 1.6, jumpMult: 2, meanBars: 200, next: { bull: 1, bear: 1, sideways: 1 } }),
    },
    ouSegments: NO_OU,
    momentum: MOMENTUM,
  },
  // A fixed cycle: a rally, a crash (a few bars of steep losses with market-wide
  // jumps), a volatile aftermath, a base-building range, then the next rally.
  crash: {
    name: 'crash',
    description: 'rally, sudden crash, volatile aftermath and recovery, repeating',
    volScale: 1,
    garch: { alpha: 0.08, gamma: 0.08, kappa: 0.03 },
    jumps: { marketPerBar: 0.0005, idioPerBar: 0.001, meanSigma: -2, sdSigma: 3 },
    initial: 'bull',
    regimes: {
      bull: regime({ drift: 0.1, meanBars: 220, next: { bear: 1 } }),
      bear: regime({ drift: -1.2, volMult: 2.5, jumpMult: 80, meanBars: 12, next: { volatile: 1 } }),
      volatile: regime({ drift: 0.05, volMult: 2, jumpMult: 4, meanBars: 90, next: { sideways: 1 } }),
      sideways: regime({ meanBars: 100, meanReversion: 0.04, next: { bull: 1 } }),
    },
    ouSegments: NO_OU,
    momentum: MOMENTUM,
  },
  'mean-revert': {
    name: 'mean-revert',
    description: 'prices oscillate around a level that shifts now and then',
    volScale: 1,
    garch: { alpha: 0.03, gamma: 0, kappa: 0.05 },
    jumps: { marketPerBar: 0, idioPerBar: 0.0005, meanSigma: 0, sdSigma: 2 },
    initial: 'sideways',
    regimes: {
      sideways: regime({ meanBars: 600, meanReversion: 0.025, next: { bull: 1, bear: 1 } }),
      bull: regime({ drift: 0.2, meanBars: 30, next: { sideways: 1 } }),
      bear: regime({ drift: -0.2, meanBars: 30, next: { sideways: 1 } }),
      volatile: regime({ volMult: 1.5, meanBars: 30, meanReversion: 0.06, next: { sideways: 1 } }),
    },
    ouSegments: NO_OU,
    momentum: MOMENTUM,
  },
  mixed: {
    name: 'mixed',
    description: 'every regime in turn, with clustering, jumps and mean-reverting stretches',
    volScale: 1,
    garch: { alpha: 0.06, gamma: 0.04, kappa: 0.02 },
    jumps: { marketPerBar: 0.0008, idioPerBar: 0.0015, meanSigma: -0.5, sdSigma: 3.5 },
    initial: 'sideways',
    regimes: {
      bull: regime({ drift: 0.08, meanBars: 200, next: { sideways: 2, volatile: 1, bear: 1 } }),
      bear: regime({ drift: -0.09, volMult: 1.2, meanBars: 150, next: { volatile: 2, sideways: 1, bull: 1 } }),
      sideways: regime({ meanBars: 150, meanReversion: 0.03, next: { bull: 2, bear: 1, volatile: 1 } }),
      volatile: regime({ volMult: 1.8, jumpMult: 3, meanBars: 80, next: { bear: 1, sideways: 1, bull: 1 } }),
    },
    ouSegments: { startPerBar: 0.002, meanBars: 120, pull: 0.04 },
    momentum: MOMENTUM,
  },
};

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}
