/**
 * Tick sizes and printed precision. Prices are kept as an integer count of
 * 1/scale units and divided once at the end: n / 100 is the double nearest to
 * the decimal, so records print as `190.23`, never `190.23000000000002`.
 */

export interface PriceGrid {
  /** 10^decimals. */
  scale: number;
  /** Tick size in 1/scale units (a $0.05 tick on a cent grid is 5). */
  step: number;
  decimals: number;
}

const SUB_DOLLAR: PriceGrid = { scale: 10_000, step: 1, decimals: 4 };
const CENTS: PriceGrid = { scale: 100, step: 1, decimals: 2 };

/**
 * SEC Rule 612 (Reg NMS): quotes at or above $1.00 move in $0.01, below $1.00
 * in $0.0001. A symbol may carry its own coarser tick instead.
 */
export function gridFor(price: number, tickSize?: number): PriceGrid {
  if (tickSize !== undefined) return gridForTick(tickSize);
  return price >= 1 ? CENTS : SUB_DOLLAR;
}

const customGrids = new Map<number, PriceGrid>();

export function gridForTick(tickSize: number): PriceGrid {
  let grid = customGrids.get(tickSize);
  if (grid) return grid;
  if (!(tickSize > 0) || !Number.isFinite(tickSize)) throw new RangeError(`tick size must be a positive number, got ${tickSize}`);
  const decimals = Math.max(0, decimalsOf(tickSize));
  const scale = 10 ** decimals;
  grid = { scale, step: Math.round(tickSize * scale), decimals };
  customGrids.set(tickSize, grid);
  return grid;
}

/** Nearest tick; never below one tick, because a record's prices must stay above zero. */
export function roundToGrid(price: number, grid: PriceGrid): number {
  const ticks = Math.round((price * grid.scale) / grid.step);
  return (ticks < 1 ? 1 : ticks) * grid.step / grid.scale;
}

function decimalsOf(x: number): number {
  const text = x.toString();
  const exp = /e-(\d+)$/.exec(text);
  if (exp) return Number(exp[1]);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}
