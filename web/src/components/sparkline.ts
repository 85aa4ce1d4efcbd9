import { svg } from '../dom';

/** Polyline points for values scaled into a width × height box (y grows downward). Pure. */
export function sparklinePoints(values: readonly number[], width: number, height: number, pad = 2): string {
  if (values.length === 0) return '';
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min;
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  return values
    .map((v, i) => {
      const x = values.length > 1 ? pad + i * step : width / 2;
      // A flat series sits mid-height rather than collapsing onto an edge.
      const y = span === 0 ? height / 2 : pad + (1 - (v - min) / span) * (height - 2 * pad);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

export interface Sparkline {
  el: SVGSVGElement;
  update(values: readonly number[], dir: 'up' | 'down' | 'flat'): void;
}

export function createSparkline(width = 160, height = 40): Sparkline {
  const area = svg('polygon', { class: 'spark-area' });
  const line = svg('polyline', { class: 'spark-line', fill: 'none' });
  const el = svg('svg', { class: 'sparkline', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false' }, area, line);
  let last = '';
  return {
    el,
    update(values, dir) {
      const pts = sparklinePoints(values, width, height);
      const key = `${dir}|${pts}`;
      if (key === last) return;
      last = key;
      el.setAttribute('data-dir', dir);
      line.setAttribute('points', pts);
      area.setAttribute('points', pts ? `2,${height} ${pts} ${width - 2},${height}` : '');
    },
  };
}
