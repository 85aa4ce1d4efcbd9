/** Colours shared by CSS (via custom properties in styles.css) and the canvas chart, which cannot read CSS. */
export const COLORS = {
  background: '#0f172a',
  text: '#cbd5e1',
  grid: '#1e293b',
  border: '#334155',
  up: '#22c55e',
  down: '#ef4444',
  upVolume: 'rgba(34, 197, 94, 0.28)',
  downVolume: 'rgba(239, 68, 68, 0.28)',
  ma: '#f59e0b',
  ema: '#38bdf8',
  rsi: '#a78bfa',
  band: '#64748b',
  buy: '#22c55e',
  sell: '#f43f5e',
} as const;
