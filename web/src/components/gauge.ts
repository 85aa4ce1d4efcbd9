import { svg } from '../dom';
import { formatNumber, rsiZone } from '../format';

/**
 * A half-dial from 0 to 100 with the oversold (<30) and overbought (>70) zones
 * marked, so the RSI reads without a number; the number is still printed.
 */

const CX = 50, CY = 50, R = 40;

/** Point on the dial for a value 0..100: 0 at the left end, 100 at the right. Pure. */
export function dialPoint(value: number, radius = R): { x: number; y: number } {
  const clamped = Math.max(0, Math.min(100, value));
  const angle = Math.PI * (1 - clamped / 100);
  return { x: CX + radius * Math.cos(angle), y: CY - radius * Math.sin(angle) };
}

function arc(from: number, to: number): string {
  const a = dialPoint(from), b = dialPoint(to);
  return `M ${a.x.toFixed(2)} ${a.y.toFixed(2)} A ${R} ${R} 0 0 1 ${b.x.toFixed(2)} ${b.y.toFixed(2)}`;
}

export interface Gauge {
  el: HTMLElement;
  update(rsi: number | null): void;
}

export function createRsiGauge(): Gauge {
  const needle = svg('line', { class: 'gauge-needle', x1: CX, y1: CY, x2: CX, y2: CY - R + 6 });
  const hub = svg('circle', { class: 'gauge-hub', cx: CX, cy: CY, r: 3.5 });
  const dial = svg(
    'svg',
    { class: 'gauge', viewBox: '0 0 100 56', 'aria-hidden': 'true', focusable: 'false' },
    svg('path', { class: 'gauge-zone oversold', d: arc(0, 30) }),
    svg('path', { class: 'gauge-zone neutral', d: arc(30, 70) }),
    svg('path', { class: 'gauge-zone overbought', d: arc(70, 100) }),
    needle,
    hub,
  );
  const label = document.createElement('span');
  label.className = 'gauge-label';
  const el = document.createElement('div');
  el.className = 'rsi-gauge';
  el.setAttribute('role', 'img');
  el.append(dial, label);
  let last: string | undefined;
  return {
    el,
    update(rsi) {
      const zone = rsiZone(rsi);
      const text = rsi === null ? 'RSI —' : `RSI ${formatNumber(rsi, 1)}`;
      if (text === last) return;
      last = text;
      label.textContent = text;
      el.dataset.zone = zone;
      el.setAttribute('aria-label', rsi === null ? 'RSI not available yet (warming up)' : `RSI ${formatNumber(rsi, 1)}, ${zone}`);
      needle.style.visibility = rsi === null ? 'hidden' : 'visible';
      if (rsi !== null) {
        const tip = dialPoint(rsi, R - 6);
        needle.setAttribute('x2', tip.x.toFixed(2));
        needle.setAttribute('y2', tip.y.toFixed(2));
      }
    },
  };
}
