/**
 * The price process. Log prices move by
 *
 *   drift(regime)·σ·Δ − ½σ²Δ + β·(market move) + idiosyncratic diffusion
 *   + Merton jumps − OU pull toward an anchor
 *
 * where the market move and the idiosyncratic diffusion each have their own
 * GARCH(1,1)/GJR variance, a Markov chain over bull / bear / sideways /
 * volatile sets drift, volatility and jump intensity for everyone (that and β
 * make symbols move together), and OU segments pull a price back toward the
 * level at which the segment began.
 *
 * Δ is the step length in model bars: 1 for bar output, the (fractional) time
 * since the previous trade for tick output. The GARCH update is the Nelson
 * (1990) discretisation — shock impact scaled by √Δ, mean reversion by Δ — so
 * one bar of many small tick steps has about the variance dynamics of one bar
 * step, and the clustering survives aggregation.
 */
import { Rng } from './random';
import { REGIMES, type Regime, type RegimeParams, type ScenarioParams } from './scenarios';
import type { SymbolProfile } from './universe';

/** Annualised volatility of the market factor before the scenario's scale. */
const MARKET_ANNUAL_VOL = 0.16;
/** Upper bound on a GARCH variance ratio, so a run of extreme shocks cannot overflow. */
const MAX_VARIANCE_RATIO = 50;
/**
 * A very weak pull toward the starting price (half-life ≈ 1,400 bars). It keeps
 * long runs of daily bars inside a plausible band (years of a volatile random
 * walk would otherwise wander to cents or to thousands) and is far too slow to
 * show in the statistics over the windows that indicators and tests look at.
 */
const HOME_PULL_PER_BAR = 5e-4;
/** E|Z| for a standard normal, √(2/π): normalises |return|/σ to mean 1 in the volume model. */
const MEAN_ABS_NORMAL = Math.sqrt(2 / Math.PI);

export interface StepResult {
  /** Log price before and after the step. */
  from: number;
  to: number;
  /** Diffusive (non-jump) variance of the step, for the intra-bar high/low. */
  diffusiveVariance: number;
  /** |log return| relative to the symbol's base σ over the step, mean ≈ 1 in calm conditions. */
  surprise: number;
}

class GarchVariance {
  h = 1;
  constructor(private readonly p: ScenarioParams['garch']) {}
  /** Advances by Δ bars after a standardised shock z. */
  update(z: number, dt: number): void {
    const { alpha, gamma, kappa } = this.p;
    if (alpha === 0 && gamma === 0) return;
    const root = Math.sqrt(dt);
    const impact = (alpha + (z < 0 ? gamma : 0)) * root;
    const keep = Math.max(0, 1 - kappa * dt - (alpha + gamma / 2) * root);
    const next = kappa * dt + keep * this.h + impact * this.h * z * z;
    this.h = next > MAX_VARIANCE_RATIO ? MAX_VARIANCE_RATIO : next;
  }
}

export class MarketFactor {
  regime: Regime;
  /** Bumped on every regime change, so symbols notice and re-anchor lazily. */
  regimeEpoch = 0;
  /** Cumulative market log move; symbols difference it between their own updates. */
  level = 0;
  private regimeLeft: number;
  private readonly variance: GarchVariance;
  private readonly rng: Rng;
  readonly sigma: number;

  constructor(
    private readonly scenario: ScenarioParams,
    seed: number,
    barYears: number,
  ) {
    this.rng = new Rng(seed, 1);
    this.variance = new GarchVariance(scenario.garch);
    this.sigma = MARKET_ANNUAL_VOL * scenario.volScale * Math.sqrt(barYears);
    this.regime = scenario.initial;
    this.regimeLeft = this.drawDuration();
  }

  get params(): RegimeParams {
    return this.scenario.regimes[this.regime];
  }

  get varianceRatio(): number {
    return this.variance.h;
  }

  step(dt: number): void {
    const reg = this.params;
    const z = this.rng.normal();
    let move = this.sigma * reg.volMult * Math.sqrt(this.variance.h * dt) * z;
    const { jumps } = this.scenario;
    const n = this.rng.poissonSmall(jumps.marketPerBar * reg.jumpMult * dt);
    for (let i = 0; i < n; i++) move += this.sigma * (jumps.meanSigma + jumps.sdSigma * this.rng.normal());
    this.level += move;
    this.variance.update(z, dt);
    this.regimeLeft -= dt;
    if (this.regimeLeft <= 0) this.switchRegime();
  }

  private drawDuration(): number {
    return this.params.meanBars * this.rng.exponential();
  }

  private switchRegime(): void {
    const next = this.params.next;
    let total = 0;
    for (const r of REGIMES) total += next[r] ?? 0;
    let pick = this.rng.uniform() * total;
    let chosen: Regime = this.regime;
    for (const r of REGIMES) {
      const w = next[r] ?? 0;
      if (w <= 0) continue;
      chosen = r;
      if ((pick -= w) < 0) break;
    }
    this.regime = chosen;
    this.regimeEpoch++;
    this.regimeLeft = this.drawDuration();
  }
}

export class SymbolProcess {
  logPrice: number;
  readonly homeLogPrice: number;
  /** Base σ per bar (total, before GARCH and regime scaling). */
  readonly sigma: number;
  private readonly sigmaIdio: number;
  private readonly variance: GarchVariance;
  private readonly rng: Rng;
  private marketLevelSeen = 0;
  private regimeEpochSeen = -1;
  private regimeAnchor = 0;
  private ouLeft = 0;
  private ouAnchor = 0;
  private momentum = 0;

  constructor(
    readonly profile: SymbolProfile,
    readonly index: number,
    private readonly scenario: ScenarioParams,
    private readonly market: MarketFactor,
    seed: number,
    barYears: number,
  ) {
    this.rng = new Rng(seed, 1000 + index);
    this.logPrice = this.homeLogPrice = Math.log(profile.price);
    this.sigma = profile.annualVol * scenario.volScale * Math.sqrt(barYears);
    const systematic = profile.beta * market.sigma;
    this.sigmaIdio = Math.sqrt(Math.max(this.sigma ** 2 - systematic ** 2, (0.3 * this.sigma) ** 2));
    this.variance = new GarchVariance(scenario.garch);
  }

  /** Random draws for intra-bar extremes and volume share this symbol's stream, keeping output a function of the seed. */
  get random(): Rng {
    return this.rng;
  }

  /** Advances this symbol by Δ bars, taking the market move since its previous step. */
  step(dt: number, out: StepResult): void {
    const market = this.market;
    const reg = market.params;
    if (market.regimeEpoch !== this.regimeEpochSeen) {
      this.regimeEpochSeen = market.regimeEpoch;
      this.regimeAnchor = this.logPrice;
    }
    const marketMove = market.level - this.marketLevelSeen;
    this.marketLevelSeen = market.level;

    const z = this.rng.normal();
    const volMult = reg.volMult;
    const idioVar = this.sigmaIdio * this.sigmaIdio * volMult * volMult * this.variance.h * dt;
    let x = reg.drift * this.sigma * dt - 0.5 * this.sigma * this.sigma * dt + this.profile.beta * marketMove + Math.sqrt(idioVar) * z;

    const { jumps, ouSegments } = this.scenario;
    const n = this.rng.poissonSmall(jumps.idioPerBar * reg.jumpMult * dt);
    for (let i = 0; i < n; i++) x += this.sigma * (jumps.meanSigma + jumps.sdSigma * this.rng.normal());

    const { momentum } = this.scenario;
    if (momentum.sd > 0) {
      const keep = Math.exp(-dt / momentum.bars);
      this.momentum = this.momentum * keep + momentum.sd * Math.sqrt(1 - keep * keep) * this.rng.normal();
      x += this.momentum * this.sigma * dt;
    }

    const lp = this.logPrice;
    if (reg.meanReversion > 0) x -= Math.min(1, reg.meanReversion * dt) * (lp - this.regimeAnchor);
    if (this.ouLeft > 0) {
      x -= Math.min(1, ouSegments.pull * dt) * (lp - this.ouAnchor);
      this.ouLeft -= dt;
    } else if (ouSegments.startPerBar > 0 && this.rng.uniform() < ouSegments.startPerBar * dt) {
      this.ouAnchor = lp;
      this.ouLeft = ouSegments.meanBars * this.rng.exponential();
    }
    x -= HOME_PULL_PER_BAR * dt * (lp - this.homeLogPrice);

    this.variance.update(z, dt);
    this.logPrice = lp + x;

    const marketVar = market.sigma * market.sigma * volMult * volMult * market.varianceRatio * dt;
    out.from = lp;
    out.to = lp + x;
    out.diffusiveVariance = this.profile.beta * this.profile.beta * marketVar + idioVar;
    out.surprise = Math.abs(x) / (this.sigma * Math.sqrt(dt) * MEAN_ABS_NORMAL);
  }
}

/**
 * Extremes of a Brownian bridge from 0 to x with variance s² (exact draws via
 * the reflection principle): max = (x + √(x² − 2s²·ln U))/2, and the mirror
 * image for the min. Both contain 0 and x, so high ≥ max(open, close) and
 * low ≤ min(open, close) hold by construction.
 */
export function bridgeExtremes(x: number, variance: number, rng: Rng): { up: number; down: number } {
  const up = (x + Math.sqrt(x * x - 2 * variance * Math.log(rng.uniform()))) / 2;
  const down = (x - Math.sqrt(x * x - 2 * variance * Math.log(rng.uniform()))) / 2;
  return { up, down };
}
