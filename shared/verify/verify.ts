import { randomBytes } from 'node:crypto';
import type { PriceRecord } from '../schema/records';
import { referenceIndicators, relDiff } from './reference-indicators';

/**
 * The end-to-end check of a running deployment, local or cloud. It talks to the
 * system only through its public HTTP API and a subscriber's queue, so it proves
 * what a user would see: ingest → indicators → bars → signal → notification.
 */

export interface VerifyQueue {
  arn: string;
  /** Message bodies of notifications received so far (SNS envelope already unwrapped). */
  receive(waitMs: number): Promise<Record<string, unknown>[]>;
  delete(): Promise<void>;
}

export interface VerifyDeps {
  url: string;
  token?: string;
  createQueue(name: string): Promise<VerifyQueue>;
  now?: () => number;
  timeoutMs?: number;
  onCheck?: (c: CheckResult) => void;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
}

/**
 * A fresh symbol's series built to fire signals: a slide that takes RSI(14) under 30,
 * a rally that takes it over 70, then a fall: one RSI BUY on the way up, SELLs after.
 */
export function verifySeries(symbol: string, now: number): PriceRecord[] {
  const start = Math.floor(now / 60_000) * 60_000 - 70 * 60_000;
  const out: PriceRecord[] = [];
  let p = 50;
  for (let i = 0; i < 62; i++) {
    p *= i < 24 ? 0.985 : i < 44 ? 1.02 : 0.98;
    const close = Math.round(p * 10_000) / 10_000;
    out.push({ symbol, timestamp: start + i * 60_000, open: close, high: close, low: close, close, volume: 100 + i });
  }
  return out;
}

export async function runVerify(deps: VerifyDeps): Promise<CheckResult[]> {
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.timeoutMs ?? 60_000;
  const results: CheckResult[] = [];
  const auth: Record<string, string> = deps.token ? { authorization: `Bearer ${deps.token}` } : {};
  const symbol = `VFY${randomBytes(4).toString('hex').toUpperCase()}`.slice(0, 12);
  const series = verifySeries(symbol, now());
  let queue: VerifyQueue | undefined;
  let subscriptionId: string | undefined;

  const http = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${deps.url}${path}`, {
      method,
      headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    // Bodies are checked field by field where they are used; a non-JSON body stays text.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let json: any;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, json };
  };

  const check = async (name: string, fn: () => Promise<string>): Promise<boolean> => {
    const t0 = performance.now();
    let r: CheckResult;
    try {
      r = { name, ok: true, ms: performance.now() - t0, detail: await fn() };
      r.ms = performance.now() - t0;
    } catch (err) {
      r = { name, ok: false, ms: performance.now() - t0, detail: (err as Error).message };
    }
    results.push(r);
    deps.onCheck?.(r);
    return r.ok;
  };

  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    const deadline = performance.now() + timeoutMs;
    let delay = 200;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (performance.now() > deadline) throw new Error(`gave up after ${timeoutMs / 1000} s waiting for ${what}`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 1.5, 2000);
    }
  };

  try {
    if (!(await check('GET /health answers 200', async () => {
      const r = await http('GET', '/health');
      if (r.status !== 200) throw new Error(`status ${r.status}: ${JSON.stringify(r.json).slice(0, 200)}`);
      return `status ${r.json?.status ?? 'ok'}`;
    }))) return results;

    if (!(await check(`subscribe a queue to BUY signals of ${symbol}`, async () => {
      queue = await deps.createQueue(`verify-${symbol.toLowerCase()}`);
      const r = await http('POST', '/subscriptions', { protocol: 'sqs', endpoint: queue.arn, symbols: [symbol], sides: ['BUY'] });
      if (r.status !== 201) throw new Error(`POST /subscriptions → ${r.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
      subscriptionId = r.json.id;
      return `subscription ${subscriptionId}`;
    }))) return results;

    if (!(await check(`POST /ticks (${series.length} one-minute ticks)`, async () => {
      const r = await http('POST', '/ticks', series.map((t) => ({ ...t, timestamp: new Date(t.timestamp).toISOString() })));
      if (r.status !== 202 || r.json?.accepted !== series.length) throw new Error(`status ${r.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
      return `${r.json.accepted} accepted`;
    }))) return results;

    const last = series[series.length - 1]!;
    await check('indicators equal an independent computation', async () => {
      const snap = await waitFor('the symbol snapshot', async () => {
        const r = await http('GET', `/symbols/${symbol}`);
        return r.status === 200 && Date.parse(r.json.lastTimestamp) === last.timestamp ? r.json : undefined;
      });
      // The last tick opened a bar of its own: committed values are those of the bars before it.
      const ref = referenceIndicators(series.slice(0, -1).map((t) => t.close));
      const worst = Math.max(...(['ma', 'ema', 'rsi'] as const).map((k) => relDiff(snap.indicators?.[k] ?? null, ref[k])));
      if (!(worst < 1e-9)) throw new Error(`API ${JSON.stringify(snap.indicators)} vs reference ${JSON.stringify(ref)}`);
      return `MA ${ref.ma!.toFixed(4)} EMA ${ref.ema!.toFixed(4)} RSI ${ref.rsi!.toFixed(2)} (max rel. diff ${worst.toExponential(1)})`;
    });

    await check('1m bars appear with the ticks’ OHLCV', async () => {
      const items = await waitFor('bars', async () => {
        const r = await http('GET', `/symbols/${symbol}/bars?interval=1m&limit=1000`);
        return r.status === 200 && r.json.items?.length === series.length ? r.json.items : undefined;
      });
      const byTime = new Map(items.map((b: { time: string }) => [Date.parse(b.time), b]));
      for (const t of series) {
        const b = byTime.get(t.timestamp) as { open: number; close: number; volume: number } | undefined;
        if (!b || b.open !== t.open || b.close !== t.close || b.volume !== t.volume) throw new Error(`bar at ${new Date(t.timestamp).toISOString()} is ${JSON.stringify(b)}`);
      }
      return `${items.length} bars`;
    });

    let buyIds: string[] = [];
    let sellIds: string[] = [];
    await check('the RSI BUY signal appears in GET /signals', async () => {
      const items = await waitFor('signals', async () => {
        const r = await http('GET', `/signals?symbol=${symbol}&limit=100`);
        const list = (r.json?.items ?? []) as { id: string; side: string; rule: string }[];
        return list.some((s) => s.side === 'BUY' && s.rule === 'rsi-threshold') && list.some((s) => s.side === 'SELL') ? list : undefined;
      });
      buyIds = items.filter((s) => s.side === 'BUY').map((s) => s.id).sort();
      sellIds = items.filter((s) => s.side === 'SELL').map((s) => s.id).sort();
      return `${buyIds.length} BUY, ${sellIds.length} SELL`;
    });

    await check('the queue gets the BUY notification and nothing else', async () => {
      if (!queue) throw new Error('no queue');
      const got: string[] = [];
      await waitFor('the notification', async () => {
        for (const m of await queue!.receive(1000)) got.push(String(m.id));
        return buyIds.length > 0 && buyIds.every((id) => got.includes(id)) ? true : undefined;
      });
      // A little longer, so a wrongly delivered SELL would have time to arrive too.
      for (const m of await queue.receive(3000)) got.push(String(m.id));
      const unexpected = got.filter((id) => !buyIds.includes(id));
      if (unexpected.length) throw new Error(`unexpected notifications: ${unexpected.join(', ')}`);
      return `${got.length} notification(s): ${[...new Set(got)].join(', ')}`;
    });
  } finally {
    await check('clean up the subscription and queue', async () => {
      if (subscriptionId) {
        const r = await http('DELETE', `/subscriptions/${encodeURIComponent(subscriptionId)}`);
        if (r.status !== 204) throw new Error(`DELETE /subscriptions → ${r.status}`);
      }
      await queue?.delete();
      return subscriptionId ? 'deleted' : 'nothing to delete';
    });
  }
  return results;
}
