import { getJson, parseBars, parseOverview, parseSignals, parseSymbols, paths, type MarketOverview, type Mover, type SymbolSummary } from '../api';
import { createRsiGauge, type Gauge } from '../components/gauge';
import { createFeed, ruleLabel } from '../components/feed';
import { createSparkline, type Sparkline } from '../components/sparkline';
import { clear, h, setText } from '../dom';
import { direction, formatAgo, formatCompact, formatNumber, formatPct, formatPrice } from '../format';
import { poll, type Poller } from '../poll';
import type { View, ViewContext } from './view';

/** Sparklines need bars per symbol; fetch them at most this often, and only a few at a time. */
const SPARK_REFRESH_MS = 10_000;
const SPARK_POINTS = 60;
const SPARK_CONCURRENCY = 3;

interface Tile {
  el: HTMLAnchorElement;
  price: HTMLElement;
  change: HTMLElement;
  updated: HTMLElement;
  spark: Sparkline;
  gauge: Gauge;
  summary: SymbolSummary;
  sparkAt: number;
  sparkStamp: number | null;
  sparkEtag: string | null;
  sparkValues: number[];
}

export function overviewView(ctx: ViewContext): View {
  ctx.setTitle('Market overview');
  const pollers: Poller[] = [];

  const tilesGrid = h('div', { class: 'tiles', id: 'tiles' });
  const tilesEmpty = h('p', { class: 'empty' }, 'Waiting for data. Start the pipeline and a generator (npm start) and tiles appear here.');
  const breadthBody = h('div', { class: 'breadth-body' }, h('p', { class: 'empty' }, 'Loading market breadth…'));
  const feed = createFeed({ showSymbol: true, emptyText: 'No signals yet.', label: 'Latest signals' });

  ctx.root.append(
    h(
      'div',
      { class: 'overview' },
      h(
        'div',
        { class: 'overview-main' },
        h('section', { class: 'card breadth', 'aria-labelledby': 'breadth-title' }, h('h2', { id: 'breadth-title' }, 'Market breadth'), breadthBody),
        h('section', { class: 'symbols', 'aria-labelledby': 'symbols-title' }, h('h2', { id: 'symbols-title' }, 'Symbols'), tilesEmpty, tilesGrid),
      ),
      h('aside', { class: 'card signals-card', 'aria-labelledby': 'feed-title' }, h('h2', { id: 'feed-title' }, 'Latest signals'), feed.el),
    ),
  );

  const tiles = new Map<string, Tile>();

  function createTile(s: SymbolSummary): Tile {
    const price = h('span', { class: 'tile-price' });
    const change = h('span', { class: 'tile-change' });
    const updated = h('span', { class: 'tile-updated' });
    const spark = createSparkline();
    const gauge = createRsiGauge();
    const el = h(
      'a',
      { class: 'tile', href: `#/symbol/${encodeURIComponent(s.symbol)}`, 'data-symbol': s.symbol },
      h('div', { class: 'tile-head' }, h('span', { class: 'tile-symbol' }, s.symbol), change),
      h('div', { class: 'tile-row' }, price, updated),
      h('div', { class: 'tile-foot' }, spark.el, gauge.el),
    );
    return { el, price, change, updated, spark, gauge, summary: s, sparkAt: 0, sparkStamp: null, sparkEtag: null, sparkValues: [] };
  }

  function paintTile(t: Tile, now: number): void {
    const s = t.summary;
    const dir = direction(s.changePct);
    setText(t.price, formatPrice(s.lastPrice));
    setText(t.change, `${dir === 'up' ? '▲' : dir === 'down' ? '▼' : '■'} ${formatPct(s.changePct)}`);
    t.change.dataset.dir = dir;
    setText(t.updated, formatAgo(s.lastTimestamp, now));
    t.gauge.update(s.indicators.rsi);
    const values = s.sparkline ?? t.sparkValues;
    t.spark.update(values, dir);
    t.el.setAttribute(
      'aria-label',
      `${s.symbol}, price ${formatPrice(s.lastPrice)}, change ${formatPct(s.changePct)}, RSI ${s.indicators.rsi === null ? 'not available' : formatNumber(s.indicators.rsi, 1)}`,
    );
  }

  function updateTiles(items: SymbolSummary[]): void {
    const now = Date.now();
    const sorted = [...items].sort((a, b) => a.symbol.localeCompare(b.symbol));
    const keep = new Set(sorted.map((s) => s.symbol));
    for (const [sym, t] of tiles) {
      if (keep.has(sym)) continue;
      t.el.remove();
      tiles.delete(sym);
    }
    let cursor: ChildNode | null = tilesGrid.firstChild;
    for (const s of sorted) {
      let t = tiles.get(s.symbol);
      if (!t) {
        t = createTile(s);
        tiles.set(s.symbol, t);
      }
      t.summary = s;
      if (t.el !== cursor) tilesGrid.insertBefore(t.el, cursor);
      cursor = t.el.nextSibling;
      paintTile(t, now);
    }
    tilesEmpty.hidden = sorted.length > 0;
    void refreshSparklines();
  }

  let sparkRunning = false;
  async function refreshSparklines(): Promise<void> {
    if (sparkRunning) return;
    sparkRunning = true;
    try {
      const now = Date.now();
      const due = [...tiles.values()].filter(
        (t) => !t.summary.sparkline && t.summary.lastTimestamp !== t.sparkStamp && now - t.sparkAt >= SPARK_REFRESH_MS,
      );
      for (let i = 0; i < due.length; i += SPARK_CONCURRENCY) {
        await Promise.all(due.slice(i, i + SPARK_CONCURRENCY).map(loadSpark));
      }
    } finally {
      sparkRunning = false;
    }
  }

  async function loadSpark(t: Tile): Promise<void> {
    t.sparkAt = Date.now();
    const stamp = t.summary.lastTimestamp;
    try {
      const res = await getJson(paths.bars(t.summary.symbol, { interval: '1m', limit: SPARK_POINTS, order: 'desc' }), parseBars, t.sparkEtag);
      t.sparkStamp = stamp;
      if (!res.modified) return;
      t.sparkEtag = res.etag;
      const bars = [...res.data.items].sort((a, b) => a.time - b.time).slice(-SPARK_POINTS);
      t.sparkValues = bars.map((b) => b.close);
      if (tiles.get(t.summary.symbol) === t) paintTile(t, Date.now());
    } catch {
      // A missing sparkline is cosmetic; the next due refresh tries again.
    }
  }

  pollers.push(
    poll({ path: paths.symbols, parse: parseSymbols, onData: updateTiles, status: ctx.status }),
    poll({ path: () => paths.signals({ limit: 30 }), parse: parseSignals, onData: (p) => feed.update(p.items), status: ctx.status }),
    poll({
      path: paths.overview,
      parse: parseOverview,
      onData: (o) => renderBreadth(breadthBody, o),
      status: ctx.status,
      intervalMs: 5000,
      onError: () => {
        if (!breadthBody.querySelector('.breadth-bar')) {
          breadthBody.replaceChildren(h('p', { class: 'empty' }, 'Market breadth is not available right now.'));
        }
        return true;
      },
    }),
  );

  const clock = setInterval(() => {
    const now = Date.now();
    feed.tick(now);
    for (const t of tiles.values()) setText(t.updated, formatAgo(t.summary.lastTimestamp, now));
  }, 1000);

  return {
    destroy() {
      for (const p of pollers) p.stop();
      clearInterval(clock);
    },
  };
}

function moverList(title: string, movers: Mover[], value: (m: Mover) => string, dirOf: (m: Mover) => string): HTMLElement {
  return h(
    'div',
    { class: 'movers' },
    h('h3', {}, title),
    movers.length
      ? h(
          'ol',
          {},
          ...movers.slice(0, 5).map((m) =>
            h(
              'li',
              {},
              h('a', { href: `#/symbol/${encodeURIComponent(m.symbol)}` }, m.symbol),
              h('span', { class: 'mover-value', 'data-dir': dirOf(m) }, value(m)),
            ),
          ),
        )
      : h('p', { class: 'empty' }, '—'),
  );
}

function signalSummary(o: MarketOverview): HTMLElement {
  const c = o.signals;
  const rows: [string, string][] = [];
  if (c.buy !== null) rows.push(['BUY', formatCompact(c.buy)]);
  if (c.sell !== null) rows.push(['SELL', formatCompact(c.sell)]);
  for (const r of c.byRule.slice(0, 3)) rows.push([ruleLabel(r.rule), formatCompact(r.count)]);
  const since = c.since !== null ? `Counted since ${new Date(c.since).toLocaleString()}` : '';
  return h(
    'div',
    { class: 'movers' },
    h('h3', { title: since }, c.total !== null ? `Signals · ${formatCompact(c.total)}` : 'Signals'),
    rows.length ? h('dl', { class: 'kv' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])) : h('p', { class: 'empty' }, 'None yet'),
  );
}

export function renderBreadth(container: HTMLElement, o: MarketOverview): void {
  const adv = o.advancers ?? 0;
  const dec = o.decliners ?? 0;
  const unch = o.unchanged ?? 0;
  const total = adv + dec + unch;
  const pct = (n: number): string => (total ? `${((n / total) * 100).toFixed(1)}%` : '0%');
  const bar = h(
    'div',
    {
      class: 'breadth-bar',
      role: 'img',
      'aria-label': `${adv} advancing, ${dec} declining, ${unch} unchanged`,
    },
    h('span', { class: 'adv', style: `width:${pct(adv)}` }),
    h('span', { class: 'unch', style: `width:${pct(unch)}` }),
    h('span', { class: 'dec', style: `width:${pct(dec)}` }),
  );
  const dirOf = (m: Mover): string => direction(m.changePct);
  const children: HTMLElement[] = [
    h(
      'div',
      { class: 'breadth-summary' },
      h('div', { class: 'breadth-counts' },
        h('span', { class: 'count adv' }, h('strong', {}, String(adv)), ' advancing'),
        h('span', { class: 'count unch' }, h('strong', {}, String(unch)), ' unchanged'),
        h('span', { class: 'count dec' }, h('strong', {}, String(dec)), ' declining'),
      ),
      bar,
    ),
    h(
      'div',
      { class: 'movers-grid' },
      moverList('Top gainers', o.topGainers, (m) => formatPct(m.changePct), dirOf),
      moverList('Top losers', o.topLosers, (m) => formatPct(m.changePct), dirOf),
      moverList('Most active', o.mostActive, (m) => (m.volume !== null ? formatCompact(m.volume) : formatPct(m.changePct)), () => 'flat'),
      signalSummary(o),
    ),
  ];
  if (o.economic.length) {
    children.push(
      h(
        'div',
        { class: 'economic' },
        h('h3', {}, 'Economic indicators'),
        h('dl', { class: 'kv inline' }, ...o.economic.slice(0, 8).flatMap((e) => [h('dt', {}, e.name), h('dd', {}, formatNumber(e.value, 2))])),
      ),
    );
  }
  clear(container);
  container.append(...children);
}
