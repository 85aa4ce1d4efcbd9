import {
  CandlestickSeries,
  HistogramSeries,
  LineSeries,
  LineStyle,
  createChart,
  createSeriesMarkers,
  type CandlestickData,
  type IChartApi,
  type ISeriesMarkersPluginApi,
  type LineData,
  type MouseEventParams,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { ApiError, parseBars, parseSignals, parseSymbolDetail, paths, type Bar, type Signal, type SymbolDetail } from '../api';
import { createFeed } from '../components/feed';
import { INTERVALS, LOOKBACK_BARS, isInterval, signalMarkers, toChartSeries, type ChartSeries, type Interval, type Marker } from '../chart-data';
import { h, setText } from '../dom';
import { direction, formatAgo, formatCompact, formatNumber, formatPct, formatPrice } from '../format';
import { DEFAULT_PERIODS, type IndicatorPeriods } from '../indicators';
import { poll, type Poller } from '../poll';
import { COLORS } from '../theme';
import type { View, ViewContext } from './view';

const STORAGE_KEY = 'dashboard.interval';
/** Bars in view by default (fewer on narrow screens): enough to read a trend, few enough to see each candle. */
const MAX_VISIBLE_BARS = 140;

/** What the browser tests (and a curious developer) can read back from the live chart. */
export interface ChartProbe {
  symbol: string;
  interval: Interval;
  bars: number;
  markers(): readonly { time: number; text: string; position: string }[];
  /** Points drawn on each indicator line (indicators are null, so not drawn, while warming up). */
  linePoints(): { ma: number; ema: number; rsi: number };
  /** Viewport coordinates (CSS px) of the middle of each visible candle body, to check pixels there. */
  candleBodies(): { time: number; x: number; y: number; height: number; up: boolean }[];
}
declare global {
  interface Window {
    __stockDashboard?: { chart?: ChartProbe };
  }
}

export function symbolView(ctx: ViewContext, symbol: string): View {
  ctx.setTitle(symbol);
  const saved = safeStorageGet(STORAGE_KEY);
  let interval: Interval = isInterval(ctx.params.get('interval')) ? (ctx.params.get('interval') as Interval) : isInterval(saved) ? saved : '1m';
  let bars: Bar[] = [];
  let signals: Signal[] = [];
  let series: ChartSeries | undefined;
  let markers: Marker[] = [];
  /** Until the user scrolls or zooms, each update shows the latest bars; after that their view is kept. */
  let autoFit = true;
  /** The engine's periods: the defaults unless the API reports the deployment's own. */
  let periods: IndicatorPeriods = { ...DEFAULT_PERIODS };
  const periodLabels: { el: HTMLElement; text: (p: IndicatorPeriods) => string }[] = [];
  const periodLabel = <E extends HTMLElement>(el: E, text: (p: IndicatorPeriods) => string): E => {
    el.textContent = text(periods);
    periodLabels.push({ el, text });
    return el;
  };

  // --- header and stats ---
  const priceEl = h('span', { class: 'sym-price' }, '—');
  const changeEl = h('span', { class: 'sym-change' });
  const updatedEl = h('span', { class: 'sym-updated' });
  const stat = (label: string | ((p: IndicatorPeriods) => string), id: string, title?: string): [HTMLElement, HTMLElement] => {
    const dd = h('dd', { id });
    const dt = h('dt', title ? { title } : {});
    if (typeof label === 'string') dt.textContent = label;
    else periodLabel(dt, label);
    return [dt, dd];
  };
  const [maDt, maDd] = stat((p) => `MA ${p.ma}`, 'stat-ma', 'Simple moving average of closes');
  const [emaDt, emaDd] = stat((p) => `EMA ${p.ema}`, 'stat-ema', 'Exponential moving average, seeded with the SMA');
  const [rsiDt, rsiDd] = stat((p) => `RSI ${p.rsi}`, 'stat-rsi', "Relative strength index, Wilder's smoothing");
  const [barDt, barDd] = stat('Open bar', 'stat-bar', 'Provisional values of the bar still open');
  const [sentDt, sentDd] = stat('Sentiment', 'stat-sentiment');
  const [capDt, capDd] = stat('Market cap', 'stat-cap');
  const [peDt, peDd] = stat('P/E', 'stat-pe');
  const notice = h('p', { class: 'notice', role: 'alert', hidden: true });

  const intervalButtons = INTERVALS.map((iv) =>
    h('button', { type: 'button', class: 'seg-btn', 'data-interval': iv, 'aria-pressed': String(iv === interval), onclick: () => switchInterval(iv) }, iv),
  );

  const legend = h('div', { class: 'legend', 'aria-hidden': 'true' });
  const chartBox = h('div', { class: 'chart', id: 'chart' });
  const chartEmpty = h('p', { class: 'chart-empty', hidden: true });
  const chartFigure = h(
    'figure',
    { class: 'chart-figure', role: 'img', 'aria-label': `${symbol} candlestick chart` },
    legend,
    chartBox,
    chartEmpty,
  );
  const feed = createFeed({ showSymbol: false, emptyText: `No signals for ${symbol} yet.`, label: `Signals for ${symbol}`, limit: 50 });

  ctx.root.append(
    h(
      'div',
      { class: 'symbol-page' },
      h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/' }, '← Overview')),
      h(
        'header',
        { class: 'sym-header' },
        h('div', { class: 'sym-title' }, h('h1', {}, symbol), priceEl, changeEl, updatedEl),
        h('dl', { class: 'stats' }, maDt, maDd, emaDt, emaDd, rsiDt, rsiDd, barDt, barDd, sentDt, sentDd, capDt, capDd, peDt, peDd),
      ),
      notice,
      h(
        'section',
        { class: 'card chart-card', 'aria-labelledby': 'chart-title' },
        h(
          'div',
          { class: 'chart-toolbar' },
          h('h2', { id: 'chart-title' }, 'Price'),
          h(
            'div',
            { class: 'keys', 'aria-hidden': 'true' },
            periodLabel(h('span', { class: 'key ma' }), (p) => `MA ${p.ma}`),
            periodLabel(h('span', { class: 'key ema' }), (p) => `EMA ${p.ema}`),
            periodLabel(h('span', { class: 'key rsi' }), (p) => `RSI ${p.rsi}`),
            h('span', { class: 'key buy' }, 'BUY'),
            h('span', { class: 'key sell' }, 'SELL'),
          ),
          h('div', { class: 'seg', role: 'group', 'aria-label': 'Bar interval' }, ...intervalButtons),
        ),
        chartFigure,
      ),
      h('section', { class: 'card', 'aria-labelledby': 'sym-signals-title' }, h('h2', { id: 'sym-signals-title' }, `Signals for ${symbol}`), feed.el),
    ),
  );

  // --- chart ---
  const chart: IChartApi = createChart(chartBox, {
    autoSize: true,
    layout: {
      background: { color: COLORS.background },
      textColor: COLORS.text,
      fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif',
      attributionLogo: false,
      panes: { separatorColor: COLORS.border, enableResize: true },
    },
    grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
    rightPriceScale: { borderColor: COLORS.border },
    timeScale: { borderColor: COLORS.border, timeVisible: true, secondsVisible: false, rightOffset: 3, tickMarkFormatter: (t: Time, type: number) => tickFormatter(t, type, interval) },
    localization: { timeFormatter: (t: Time) => formatChartTime(t, interval) },
    crosshair: { mode: 0 },
  });
  const candleSeries = chart.addSeries(CandlestickSeries, {
    upColor: COLORS.up,
    downColor: COLORS.down,
    borderVisible: false,
    wickUpColor: COLORS.up,
    wickDownColor: COLORS.down,
  });
  const maSeries = chart.addSeries(LineSeries, { color: COLORS.ma, lineWidth: 2, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false });
  const emaSeries = chart.addSeries(LineSeries, { color: COLORS.ema, lineWidth: 2, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false });
  const volumeSeries = chart.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: 'volume', lastValueVisible: false, priceLineVisible: false });
  // Volume sits in the bottom fifth of the price pane, behind the candles.
  chart.priceScale('volume', 0).applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  candleSeries.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });
  const rsiSeries = chart.addSeries(
    LineSeries,
    {
      color: COLORS.rsi,
      lineWidth: 2,
      priceLineVisible: false,
      priceFormat: { type: 'price', precision: 1, minMove: 0.1 },
      // RSI is bounded; a fixed 0–100 scale keeps the 30/70 bands where the eye expects them.
      autoscaleInfoProvider: () => ({ priceRange: { minValue: 0, maxValue: 100 } }),
    },
    1,
  );
  for (const level of [30, 70]) {
    rsiSeries.createPriceLine({ price: level, color: COLORS.band, lineWidth: 1, lineStyle: LineStyle.Dashed, axisLabelVisible: true, title: '' });
  }
  chart.panes()[1]?.setHeight(150);
  const markerPlugin: ISeriesMarkersPluginApi<Time> = createSeriesMarkers(candleSeries, []);

  window.__stockDashboard = {
    ...window.__stockDashboard,
    chart: {
      symbol,
      get interval() {
        return interval;
      },
      get bars() {
        return series?.candles.length ?? 0;
      },
      markers: () => markerPlugin.markers().map((m) => ({ time: Number(m.time), text: m.text ?? '', position: String(m.position) })),
      linePoints: () => ({ ma: series?.ma.length ?? 0, ema: series?.ema.length ?? 0, rsi: series?.rsi.length ?? 0 }),
      candleBodies: () => {
        const box = chartBox.getBoundingClientRect();
        const out: { time: number; x: number; y: number; height: number; up: boolean }[] = [];
        for (const c of series?.candles ?? []) {
          const x = chart.timeScale().timeToCoordinate(asTime(c.time));
          const yo = candleSeries.priceToCoordinate(c.open);
          const yc = candleSeries.priceToCoordinate(c.close);
          if (x === null || yo === null || yc === null) continue;
          out.push({ time: c.time, x: box.left + x, y: box.top + (yo + yc) / 2, height: Math.abs(yo - yc), up: c.close >= c.open });
        }
        return out;
      },
    },
  };

  const asTime = (t: number): UTCTimestamp => t as UTCTimestamp;
  const line = (pts: { time: number; value: number }[]): LineData<Time>[] => pts.map((p) => ({ time: asTime(p.time), value: p.value }));

  function renderChart(): void {
    series = toChartSeries(bars, periods);
    candleSeries.setData(series.candles.map((c) => ({ ...c, time: asTime(c.time) })));
    volumeSeries.setData(series.volume.map((v) => ({ time: asTime(v.time), value: v.value, color: v.up ? COLORS.upVolume : COLORS.downVolume })));
    maSeries.setData(line(series.ma));
    emaSeries.setData(line(series.ema));
    rsiSeries.setData(line(series.rsi));
    renderMarkers();
    chartEmpty.hidden = series.candles.length > 0;
    setText(chartEmpty, `No ${interval} bars for ${symbol} yet.`);
    chartFigure.setAttribute(
      'aria-label',
      `${symbol} candlestick chart, ${series.candles.length} ${interval} bars, with MA ${periods.ma}, EMA ${periods.ema}, volume and RSI ${periods.rsi}; ${markers.length} signal markers`,
    );
    if (autoFit && series.candles.length) {
      const n = series.candles.length;
      const visible = Math.max(30, Math.min(MAX_VISIBLE_BARS, Math.floor(chartBox.clientWidth / 9)));
      chart.timeScale().setVisibleLogicalRange({ from: Math.max(0, n - visible) - 0.5, to: n + 2 });
    }
    paintLegend(undefined);
  }

  function renderMarkers(): void {
    if (!series) return;
    markers = signalMarkers(signals, series.candles, interval);
    const list: SeriesMarker<Time>[] = markers.map((m) =>
      m.side === 'BUY'
        ? { time: asTime(m.time), position: 'belowBar', shape: 'arrowUp', color: COLORS.buy, text: 'BUY', id: m.id }
        : { time: asTime(m.time), position: 'aboveBar', shape: 'arrowDown', color: COLORS.sell, text: 'SELL', id: m.id },
    );
    markerPlugin.setMarkers(list);
    chartBox.dataset.markers = String(list.length);
  }

  function paintLegend(param: MouseEventParams<Time> | undefined): void {
    if (!series || series.candles.length === 0) {
      legend.replaceChildren();
      return;
    }
    let time: number;
    const hovered = param?.time !== undefined ? (param.seriesData.get(candleSeries) as CandlestickData<Time> | undefined) : undefined;
    if (hovered) time = Number(hovered.time);
    else time = series.candles[series.candles.length - 1]!.time;
    const c = series.candles.find((x) => x.time === time);
    if (!c) return;
    const at = <T extends { time: number }>(xs: T[]): T | undefined => xs.find((x) => x.time === time);
    const vol = at(series.volume)?.value;
    const item = (k: string, v: string, cls = ''): HTMLElement => h('span', { class: `lg ${cls}` }, h('b', {}, k), ' ', v);
    legend.replaceChildren(
      h('span', { class: 'lg time' }, formatChartTime(time, interval)),
      item('O', formatPrice(c.open)),
      item('H', formatPrice(c.high)),
      item('L', formatPrice(c.low)),
      item('C', formatPrice(c.close), c.close >= c.open ? 'up' : 'down'),
      item('Vol', formatCompact(vol ?? null)),
      item('MA', formatPrice(at(series.ma)?.value ?? null), 'ma'),
      item('EMA', formatPrice(at(series.ema)?.value ?? null), 'ema'),
      item('RSI', formatNumber(at(series.rsi)?.value ?? null, 1), 'rsi'),
    );
  }
  chart.subscribeCrosshairMove(paintLegend);
  for (const type of ['wheel', 'pointerdown', 'touchstart', 'keydown']) chartBox.addEventListener(type, () => (autoFit = false), { passive: true });

  // --- header rendering ---
  function renderDetail(d: SymbolDetail): void {
    notice.hidden = true;
    const p = d.periods;
    if (p && (p.ma !== periods.ma || p.ema !== periods.ema || p.rsi !== periods.rsi)) {
      periods = p;
      for (const l of periodLabels) setText(l.el, l.text(p));
      renderChart();
    }
    const dir = direction(d.changePct);
    setText(priceEl, formatPrice(d.lastPrice));
    setText(changeEl, d.changePct === null ? '' : `${dir === 'up' ? '▲' : dir === 'down' ? '▼' : '■'} ${formatPct(d.changePct)}`);
    changeEl.dataset.dir = dir;
    updatedEl.dataset.time = String(d.lastTimestamp ?? '');
    setText(updatedEl, d.lastTimestamp ? `updated ${formatAgo(d.lastTimestamp, Date.now())}` : '');
    setText(maDd, formatPrice(d.indicators.ma));
    setText(emaDd, formatPrice(d.indicators.ema));
    setText(rsiDd, formatNumber(d.indicators.rsi, 1));
    rsiDd.dataset.zone = d.indicators.rsi === null ? '' : d.indicators.rsi < 30 ? 'oversold' : d.indicators.rsi > 70 ? 'overbought' : 'neutral';
    const b = d.openBar;
    setText(barDd, b ? `O ${formatPrice(b.open)} H ${formatPrice(b.high)} L ${formatPrice(b.low)} C ${formatPrice(b.close)}` : '—');
    setText(sentDd, d.sentiment?.score !== null && d.sentiment?.score !== undefined ? formatNumber(d.sentiment.score, 2) : '—');
    setText(capDd, d.marketData?.marketCap ? formatCompact(d.marketData.marketCap) : '—');
    setText(peDd, d.marketData?.peRatio ? formatNumber(d.marketData.peRatio, 1) : '—');
    ctx.setTitle(`${symbol} ${formatPrice(d.lastPrice)}`);
  }

  function showNotFound(err: unknown): boolean {
    if (err instanceof ApiError && (err.status === 404 || err.status === 400)) {
      notice.hidden = false;
      setText(notice, err.status === 404 ? `No data for ${symbol}: the pipeline has not seen this symbol.` : err.message);
      return true;
    }
    return false;
  }

  function switchInterval(iv: Interval): void {
    if (iv === interval) return;
    interval = iv;
    safeStorageSet(STORAGE_KEY, iv);
    history.replaceState(null, '', `#/symbol/${encodeURIComponent(symbol)}?interval=${iv}`);
    for (const b of intervalButtons) b.setAttribute('aria-pressed', String(b.dataset.interval === iv));
    bars = [];
    autoFit = true;
    chart.applyOptions({ timeScale: { secondsVisible: false, timeVisible: iv !== '1d' } });
    renderChart();
    barsPoller.refresh();
  }

  const pollers: Poller[] = [];
  const barsPoller = poll({
    path: () => paths.bars(symbol, { interval, limit: LOOKBACK_BARS, order: 'desc' }),
    parse: parseBars,
    onData: (page) => {
      bars = page.items;
      renderChart();
    },
    onError: showNotFound,
    status: ctx.status,
  });
  pollers.push(
    barsPoller,
    poll({ path: () => paths.symbol(symbol), parse: parseSymbolDetail, onData: (d) => d && renderDetail(d), onError: showNotFound, status: ctx.status }),
    poll({
      path: () => paths.signals({ symbol, limit: 100 }),
      parse: parseSignals,
      onData: (p) => {
        signals = p.items;
        feed.update(signals);
        renderMarkers();
      },
      status: ctx.status,
    }),
  );
  const clock = setInterval(() => {
    const now = Date.now();
    feed.tick(now);
    const t = Number(updatedEl.dataset.time);
    if (t) setText(updatedEl, `updated ${formatAgo(t, now)}`);
  }, 1000);

  return {
    destroy() {
      for (const p of pollers) p.stop();
      clearInterval(clock);
      chart.remove();
      if (window.__stockDashboard) delete window.__stockDashboard.chart;
    },
  };
}

function safeStorageGet(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}
function safeStorageSet(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private mode: the interval just is not remembered.
  }
}

const pad = (n: number): string => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Chart times are UTC seconds. Intraday bars read in local time; daily bars are UTC
 * days, so they are labelled in UTC or a bar would carry the previous day's date.
 */
function parts(t: Time | number, interval: Interval): { y: number; mo: number; d: number; h: number; mi: number } {
  const x = new Date(Number(t) * 1000);
  return interval === '1d'
    ? { y: x.getUTCFullYear(), mo: x.getUTCMonth(), d: x.getUTCDate(), h: x.getUTCHours(), mi: x.getUTCMinutes() }
    : { y: x.getFullYear(), mo: x.getMonth(), d: x.getDate(), h: x.getHours(), mi: x.getMinutes() };
}

function formatChartTime(t: Time | number, interval: Interval): string {
  const p = parts(t, interval);
  const date = `${MONTHS[p.mo]} ${p.d}`;
  return interval === '1d' ? `${date} ${p.y}` : `${date} ${pad(p.h)}:${pad(p.mi)}`;
}

/** The tick mark type says which unit changed: 0 year, 1 month, 2 day, 3 and up time of day. */
function tickFormatter(t: Time, type: number, interval: Interval): string {
  const p = parts(t, interval);
  if (type === 0) return String(p.y);
  if (type === 1) return MONTHS[p.mo] ?? '';
  if (type === 2) return `${MONTHS[p.mo]} ${p.d}`;
  return `${pad(p.h)}:${pad(p.mi)}`;
}
