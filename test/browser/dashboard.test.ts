import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { buildDashboard } from '../../web/build';
import {
  API_URL,
  assertApiReachable,
  freshSymbol,
  openSession,
  postTicks,
  screenshot,
  triggeringSeries,
  waitFor,
  type ConsoleEntry,
  type Session,
} from './helpers';

/**
 * The dashboard in a real headless Chromium against the running local pipeline.
 * The test brings its own data: a fresh symbol whose falling closes are posted
 * first and whose rising closes (which fire an RSI BUY) are posted while the
 * symbol page is open, so the marker has to arrive by live update.
 */

const symbol = freshSymbol();
const series = triggeringSeries(symbol);
const lastFallingClose = series.falling[series.falling.length - 1]!.close;
/** Pipeline latency bound: ingest → Kafka → process → signal → aggregate → API. */
const PIPELINE_MS = 60_000;
/** Requests the tests make fail on purpose; the browser logs each as a console error naming the resource. */
const expectedFailures: ((e: ConsoleEntry) => boolean)[] = [];

let session: Session;
let page: Page;
const createdSubscriptions: string[] = [];

beforeAll(async () => {
  await assertApiReachable();
  await buildDashboard({ reportPath: null });
  await postTicks(series.falling);
  session = await openSession();
  page = session.page;
  // The falling series must be queryable before the pages can show it.
  await waitFor(
    `${symbol} to reach GET /symbols/${symbol}`,
    async () => {
      const res = await fetch(`${API_URL}/symbols/${symbol}`);
      if (!res.ok) return false;
      const body = (await res.json()) as { lastPrice: number | null };
      return body.lastPrice === lastFallingClose;
    },
    PIPELINE_MS,
  );
}, PIPELINE_MS + 60_000);

afterAll(async () => {
  await session?.close();
  for (const id of createdSubscriptions) {
    await fetch(`${API_URL}/subscriptions/${encodeURIComponent(id)}`, { method: 'DELETE' }).catch(() => undefined);
  }
});

/**
 * Reads the chart's canvases at the middle of every candle body the chart reports,
 * and counts the bodies painted in the right colour. A blank, failed or misplaced
 * chart scores zero.
 */
async function paintedCandles(p: Page): Promise<{ bodies: number; matched: number; up: number; down: number }> {
  return p.evaluate(() => {
    const UP = [0x22, 0xc5, 0x5e], DOWN = [0xef, 0x44, 0x44];
    const near = (px: Uint8ClampedArray, c: number[]): boolean => px[3]! > 200 && c.every((v, i) => Math.abs(px[i]! - v) < 24);
    const canvases = Array.from(document.querySelectorAll<HTMLCanvasElement>('#chart canvas'));
    const bodies = window.__stockDashboard?.chart?.candleBodies() ?? [];
    let matched = 0, up = 0, down = 0;
    for (const b of bodies.filter((x) => x.height >= 4)) {
      const hit = canvases.some((canvas) => {
        const r = canvas.getBoundingClientRect();
        if (b.x < r.left || b.x >= r.right || b.y < r.top || b.y >= r.bottom || r.width === 0) return false;
        const px = canvas.getContext('2d')?.getImageData(Math.floor(((b.x - r.left) * canvas.width) / r.width), Math.floor(((b.y - r.top) * canvas.height) / r.height), 1, 1).data;
        return px !== undefined && near(px, b.up ? UP : DOWN);
      });
      if (!hit) continue;
      matched++;
      if (b.up) up++;
      else down++;
    }
    return { bodies: bodies.length, matched, up, down };
  });
}

describe('dashboard in a browser', () => {
  it('overview shows a tile per symbol with price, change, sparkline and RSI, the feed and market breadth', async () => {
    await page.goto(`${API_URL}/`);
    const tile = page.locator(`.tile[data-symbol="${symbol}"]`);
    await tile.waitFor({ timeout: 15_000 });
    // The tile shows exactly the last close the test posted.
    await expect(tile.locator('.tile-price').textContent()).resolves.toBe(lastFallingClose.toFixed(2));
    // 20 closes falling by 1 from 100: the engine's RSI(14) is 0, deep in the oversold zone.
    await page.waitForFunction((s) => document.querySelector(`.tile[data-symbol="${s}"] .rsi-gauge`)?.getAttribute('data-zone') === 'oversold', symbol, { timeout: 15_000 });
    await page.waitForFunction((s) => (document.querySelector(`.tile[data-symbol="${s}"] .spark-line`)?.getAttribute('points') ?? '').split(' ').length >= 2, symbol, { timeout: 20_000 });
    expect(await page.locator('.tile').count()).toBeGreaterThanOrEqual(1);
    await page.locator('.breadth-bar').waitFor({ timeout: 15_000 });
    const breadthLabel = await page.locator('.breadth-bar').getAttribute('aria-label');
    expect(breadthLabel).toMatch(/^\d+ advancing, \d+ declining, \d+ unchanged$/);
    await expect(page.locator('.feed').getAttribute('aria-live')).resolves.toBe('polite');
    await screenshot(page, 'overview');
  });

  it('symbol page draws candlesticks, MA/EMA overlays, volume and an RSI pane (canvas is not blank)', async () => {
    await page.goto(`${API_URL}/#/symbol/${symbol}`);
    await page.waitForFunction(() => (window.__stockDashboard?.chart?.bars ?? 0) >= 20, undefined, { timeout: 20_000 });
    // Give the chart a frame to paint after the data arrived.
    await page.waitForTimeout(300);
    const px = await paintedCandles(page);
    // 20 falling bars, each opening at the previous close: 20 red bodies, each painted where the chart says.
    expect(px).toEqual({ bodies: 20, matched: 20, up: 0, down: 20 });
    // From 20 closes: MA(20) and EMA(20) have their first value at the 20th, RSI(14) from the 15th on.
    expect(await page.evaluate(() => window.__stockDashboard?.chart?.linePoints())).toEqual({ ma: 1, ema: 1, rsi: 6 });
    await expect(page.locator('#stat-rsi').textContent()).resolves.toBe('0.0');
    await screenshot(page, 'symbol-before-signal');
  });

  it('a BUY marker appears at the signal bar after a triggering series is posted, without a reload', async () => {
    await page.goto(`${API_URL}/#/symbol/${symbol}`);
    await page.waitForFunction(() => (window.__stockDashboard?.chart?.bars ?? 0) >= 20, undefined, { timeout: 20_000 });
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    expect(await page.evaluate(() => window.__stockDashboard?.chart?.markers().length)).toBe(0);

    await postTicks(series.rising);
    const markers = await waitFor(
      'a BUY marker on the chart',
      async () => {
        const m = await page.evaluate(() => window.__stockDashboard?.chart?.markers() ?? []);
        return m.some((x) => x.text === 'BUY') ? m : undefined;
      },
      PIPELINE_MS,
    );
    // RSI(14) crosses 30 on the fourth rising bar (see triggeringSeries): index 23.
    const crossingBar = Math.floor(Date.parse(series.rising[3]!.timestamp) / 60_000) * 60;
    const rsiBuy = markers.find((m) => m.time === crossingBar);
    expect(rsiBuy).toEqual({ time: crossingBar, text: 'BUY', position: 'belowBar' });
    // Same document: the update came by polling, not by a page load.
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await page.locator('.feed-item.buy').first().waitFor({ timeout: 10_000 });
    await page.waitForTimeout(300);
    await screenshot(page, 'symbol-with-signal');

    // The interval switch re-buckets the same marker onto the 5m bar holding it.
    await page.getByRole('button', { name: '5m' }).click();
    await page.waitForFunction(() => window.__stockDashboard?.chart?.interval === '5m' && (window.__stockDashboard.chart.markers().length ?? 0) > 0, undefined, { timeout: 15_000 });
    const m5 = await page.evaluate(() => window.__stockDashboard?.chart?.markers() ?? []);
    expect(m5.map((m) => m.time)).toContain(Math.floor(crossingBar / 300) * 300);
    await expect(page.getByRole('button', { name: '5m' }).getAttribute('aria-pressed')).resolves.toBe('true');
    expect(page.url()).toContain('interval=5m');
  });

  it('subscription form shows field errors inline for bad input, then submits', async () => {
    await page.goto(`${API_URL}/#/alerts`);
    // Every control has an accessible name.
    const unlabeled = await page.evaluate(() =>
      Array.from(document.querySelectorAll('form input')).filter((i) => (i as HTMLInputElement).labels?.length === 0).map((i) => i.id),
    );
    expect(unlabeled).toEqual([]);

    expectedFailures.push((e) => /status of 400/.test(e.text) && e.url.endsWith('/subscriptions'));
    const submit = async (): Promise<number> => {
      const response = page.waitForResponse((r) => r.url().endsWith('/subscriptions') && r.request().method() === 'POST');
      await page.getByRole('button', { name: 'Subscribe' }).click();
      return (await response).status();
    };

    // A bad address: the error sits under the address field, which is marked invalid and focused.
    await page.getByLabel('Email address').fill('not-an-email');
    await page.getByLabel(/Symbols/).fill(symbol);
    expect(await submit()).toBe(400);
    await page.locator('#endpoint-error').waitFor({ state: 'visible' });
    expect(await page.locator('#endpoint-error').textContent()).toMatch(/email/i);
    await expect(page.locator('#endpoint').getAttribute('aria-invalid')).resolves.toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('endpoint');
    await expect(page.locator('#form-summary').textContent()).resolves.toMatch(/Please fix the highlighted field/);

    // A bad symbol and no side: both errors at once, and the fixed address is no longer flagged.
    await page.getByLabel('Email address').fill(`dashboard-${symbol.toLowerCase()}@example.com`);
    await page.getByLabel(/Symbols/).fill(`${symbol}, bad/sym`);
    await page.getByLabel('BUY').uncheck();
    await page.getByLabel('SELL').uncheck();
    expect(await submit()).toBe(400);
    await page.locator('#symbols-error').waitFor({ state: 'visible' });
    expect(await page.locator('#symbols-error').textContent()).toMatch(/BAD\/SYM/);
    await expect(page.locator('#sides-error').isVisible()).resolves.toBe(true);
    await expect(page.locator('#endpoint-error').isVisible()).resolves.toBe(false);
    await expect(page.locator('#endpoint').getAttribute('aria-invalid')).resolves.toBeNull();
    await expect(page.locator('#form-summary').textContent()).resolves.toMatch(/Please fix 2 highlighted fields/);
    await screenshot(page, 'subscribe-errors');

    await page.getByLabel('Email address').fill(`dashboard-${symbol.toLowerCase()}@example.com`);
    await page.getByLabel(/Symbols/).fill(symbol);
    await page.getByLabel('BUY').check();
    const goodResponse = page.waitForResponse((r) => r.url().endsWith('/subscriptions') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    const res = await goodResponse;
    expect(res.status()).toBe(201);
    expect(JSON.parse(res.request().postData() ?? '{}')).toEqual({
      protocol: 'email',
      endpoint: `dashboard-${symbol.toLowerCase()}@example.com`,
      symbols: [symbol],
      sides: ['BUY'],
    });
    const created = (await res.json()) as { id?: string };
    if (created.id) createdSubscriptions.push(created.id);
    await page.waitForFunction(() => document.querySelector('#form-status')?.getAttribute('data-state') === 'ok');
    expect(await page.locator('#form-status').textContent()).toMatch(/^Subscribed/);
    await expect(page.locator('#endpoint-error').isVisible()).resolves.toBe(false);
    await expect(page.locator('#endpoint').getAttribute('aria-invalid')).resolves.toBeNull();
    await screenshot(page, 'subscribe-ok');
  });

  it('fits a phone screen without horizontal scrolling', async () => {
    const phone = await session.context.newPage();
    phone.on('console', (m) => m.type() === 'error' && session.errors.push({ type: 'console', text: m.text(), url: m.location().url }));
    phone.on('pageerror', (e) => session.errors.push({ type: 'pageerror', text: e.message, url: phone.url() }));
    await phone.setViewportSize({ width: 390, height: 844 });
    for (const route of ['/', `/#/symbol/${symbol}`, '/#/alerts']) {
      await phone.goto(`${API_URL}${route}`);
      await phone.locator('main > *').first().waitFor();
      await phone.waitForTimeout(500);
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect({ route, overflow }).toEqual({ route, overflow: 0 });
    }
    await phone.goto(`${API_URL}/`);
    await phone.locator(`.tile[data-symbol="${symbol}"]`).waitFor({ timeout: 15_000 });
    await screenshot(phone, 'overview-phone');
    await phone.close();
  });

  it('logged no console errors and no uncaught exceptions', () => {
    const unexpected = session.errors.filter((e) => !expectedFailures.some((expected) => expected(e)));
    expect(unexpected).toEqual([]);
  });
});
