import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

/** Shared by the browser tests: the API under test, a fresh headless Chromium, console capture, screenshots. */

export const API_URL = (process.env.API_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve(process.env.SCREENSHOT_DIR ?? 'artifacts/screenshots');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface ConsoleEntry { type: string; text: string; url: string }

export interface Session {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors, in order. */
  errors: ConsoleEntry[];
  close(): Promise<void>;
}

/** A browser with a fresh, throwaway profile so no cache or storage leaks between runs. */
export async function openSession(viewport = { width: 1440, height: 900 }): Promise<Session> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'dashboard-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      deviceScaleFactor: 1,
      timezoneId: 'UTC',
      locale: 'en-US',
    });
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw new Error(`Cannot start ${CHROMIUM} (install it with: bash scripts/browser.sh): ${(err as Error).message}`, { cause: err });
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: ConsoleEntry[] = [];
  const onConsole = (m: ConsoleMessage): void => {
    if (m.type() === 'error') errors.push({ type: 'console', text: m.text(), url: m.location().url });
  };
  page.on('console', onConsole);
  page.on('pageerror', (e) => errors.push({ type: 'pageerror', text: `${e.name}: ${e.message}`, url: page.url() }));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Fails fast, naming the URL and what to run, when the API is not up. */
export async function assertApiReachable(): Promise<void> {
  try {
    const res = await fetch(`${API_URL}/symbols`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET /symbols answered HTTP ${res.status}`);
  } catch (err) {
    throw new Error(`The API at ${API_URL} is not reachable (${(err as Error).message}). Start the local pipeline first (npm start), or set API_URL.`, { cause: err });
  }
}

export interface TickRecord { symbol: string; timestamp: string; open: number; high: number; low: number; close: number; volume: number }

export async function postTicks(records: TickRecord[]): Promise<void> {
  const res = await fetch(`${API_URL}/ticks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) });
  const body = (await res.json().catch(() => ({}))) as { accepted?: number; rejected?: unknown[] };
  if (res.status !== 202 || body.accepted !== records.length) {
    throw new Error(`POST /ticks answered ${res.status} ${JSON.stringify(body).slice(0, 500)}; expected 202 with all ${records.length} accepted`);
  }
}

/** A symbol no earlier run used, within the engine's format (1–12 of A–Z, 0–9). */
export function freshSymbol(prefix = 'WB'): string {
  return `${prefix}${Date.now().toString(36).toUpperCase().slice(-7)}`;
}

/**
 * A series built to fire an RSI BUY: closes fall by 1 for 20 one-minute bars, driving
 * RSI(14) to 0 (only losses), then rise by 1.5. By Wilder's recurrence the averages
 * after k rises are g_k = (13 g_{k-1} + 1.5)/14 and l_k = 13 l_{k-1}/14 from g_0 = 0,
 * l_0 = 1, so RSI = 100 g/(g+l) goes 10.3, 19.3, 27.2, 34.1: it crosses 30 on the
 * fourth rising bar. One record per minute, ending a minute ago; each record is a
 * bar opening at the previous close, so every candle has a body to see.
 */
export function triggeringSeries(symbol: string, now = Date.now()): { falling: TickRecord[]; rising: TickRecord[]; closes: number[] } {
  const minute = 60_000;
  const start = Math.floor(now / minute) * minute - 40 * minute;
  const closes: number[] = [];
  for (let i = 0; i < 40; i++) closes.push(i < 20 ? 100 - i : 81 + (i - 19) * 1.5);
  const records = closes.map((close, i) => {
    const open = i === 0 ? close + 1 : closes[i - 1]!;
    return {
      symbol,
      timestamp: new Date(start + i * minute + 5_000).toISOString(),
      open,
      high: Math.max(open, close) + 0.25,
      low: Math.min(open, close) - 0.25,
      close,
      volume: 100 + i * 10,
    };
  });
  return { falling: records.slice(0, 20), rising: records.slice(20), closes };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs: number, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}
