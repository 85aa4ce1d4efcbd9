import type { Signal } from '../api';
import { h, setText } from '../dom';
import { formatAgo, formatPrice } from '../format';

/**
 * The signals feed. Items are keyed by signal id and only new ones are inserted, so
 * the aria-live region announces additions and not the whole list on every poll.
 */

export interface Feed {
  el: HTMLElement;
  update(signals: readonly Signal[]): void;
  /** Refresh the relative times ("12s ago") without touching the list. */
  tick(now: number): void;
}

export function ruleLabel(rule: string): string {
  const known: Record<string, string> = {
    'rsi-threshold': 'RSI threshold',
    'ema-ma-crossover': 'EMA/MA crossover',
  };
  return known[rule] ?? rule.replace(/[-_]+/g, ' ');
}

export function createFeed(opts: { showSymbol: boolean; emptyText: string; limit?: number; label: string }): Feed {
  const limit = opts.limit ?? 30;
  const list = h('ol', { class: 'feed', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': opts.label });
  const empty = h('p', { class: 'empty' }, opts.emptyText);
  const el = h('div', { class: 'feed-wrap' }, empty, list);
  const items = new Map<string, { li: HTMLLIElement; time: HTMLTimeElement; at: number | null }>();
  let first = true;

  function render(s: Signal): HTMLLIElement {
    const time = h('time', { class: 'feed-time', datetime: s.createdAt ? new Date(s.createdAt).toISOString() : '' }, formatAgo(s.createdAt, Date.now()));
    const li = h(
      'li',
      { class: `feed-item ${s.side.toLowerCase()}`, 'data-signal-id': s.id },
      h('span', { class: `badge ${s.side.toLowerCase()}` }, s.side),
      h(
        'div',
        { class: 'feed-body' },
        h(
          'div',
          { class: 'feed-line' },
          opts.showSymbol ? h('a', { class: 'feed-symbol', href: `#/symbol/${encodeURIComponent(s.symbol)}` }, s.symbol) : null,
          h('span', { class: 'feed-price' }, `@ ${formatPrice(s.price)}`),
        ),
        h('div', { class: 'feed-reason', title: s.reason || null }, h('span', { class: 'feed-rule' }, ruleLabel(s.rule)), s.reason ? ` · ${s.reason}` : ''),
      ),
      time,
    );
    items.set(s.id, { li, time, at: s.createdAt });
    return li;
  }

  return {
    el,
    update(signals) {
      const wanted = signals.slice(0, limit);
      const wantedIds = new Set(wanted.map((s) => s.id));
      for (const [id, item] of items) {
        if (!wantedIds.has(id)) {
          item.li.remove();
          items.delete(id);
        }
      }
      // Walk in display order, inserting each missing item before the next existing one.
      let cursor: ChildNode | null = list.firstChild;
      for (const s of wanted) {
        const existing = items.get(s.id);
        if (existing) {
          if (existing.li !== cursor) list.insertBefore(existing.li, cursor);
          cursor = existing.li.nextSibling;
        } else {
          const li = render(s);
          if (!first) li.classList.add('fresh');
          list.insertBefore(li, cursor);
        }
      }
      first = false;
      empty.hidden = wanted.length > 0;
    },
    tick(now) {
      for (const item of items.values()) setText(item.time, formatAgo(item.at, now));
    },
  };
}
