import './styles.css';
import { h } from './dom';
import { createLiveStatus } from './live-status';
import { parseRoute } from './router';
import { overviewView } from './views/overview';
import { subscribeView } from './views/subscribe';
import { symbolView } from './views/symbol';
import type { View, ViewContext } from './views/view';

const APP = 'StockStream';

function start(): void {
  const main = document.getElementById('main');
  const statusEl = document.getElementById('live-status');
  if (!main || !statusEl) throw new Error('index.html is missing #main or #live-status');
  const status = createLiveStatus(statusEl);
  let current: View | undefined;
  let firstRender = true;

  function render(): void {
    current?.destroy();
    main!.replaceChildren();
    const route = parseRoute(location.hash);
    const ctx: ViewContext = {
      root: main!,
      status,
      params: route.params,
      setTitle: (t) => (document.title = `${t} · ${APP}`),
    };
    for (const link of Array.from(document.querySelectorAll<HTMLAnchorElement>('.nav a'))) {
      const active = (link.dataset.route === 'overview' && route.name === 'overview') || (link.dataset.route === 'subscribe' && route.name === 'subscribe');
      if (active) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    switch (route.name) {
      case 'overview':
        current = overviewView(ctx);
        break;
      case 'symbol':
        current = symbolView(ctx, route.symbol);
        break;
      case 'subscribe':
        current = subscribeView(ctx);
        break;
      default:
        ctx.setTitle('Not found');
        main!.append(h('div', { class: 'card' }, h('h1', {}, 'Page not found'), h('p', {}, 'No page at ', h('code', {}, route.path), '. ', h('a', { href: '#/' }, 'Back to the overview'), '.')));
        current = { destroy() {} };
    }
    // Move focus to the new page for keyboard and screen reader users, but not on first load.
    if (!firstRender) main!.focus({ preventScroll: false });
    firstRender = false;
    window.scrollTo(0, 0);
  }

  window.addEventListener('hashchange', () => {
    // "#main" (the skip link) is an in-page anchor, not a route.
    if (location.hash === '' || location.hash.startsWith('#/')) render();
  });
  render();
}

start();
