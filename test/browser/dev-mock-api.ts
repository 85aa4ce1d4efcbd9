/**
 * DEVELOPMENT ONLY: a tiny in-memory stand-in for the query API, to work on the
 * dashboard's look without the pipeline running. The browser tests never use it;
 * they run against the real local API (API_URL).
 *
 *   bash scripts/dev.sh run test/browser/dev-mock-api.ts [--port 3999]
 *
 * It serves web/dist through web/static.ts exactly as the api function does, seeds
 * a few symbols with a random walk, and turns POST /ticks into 1m bars and RSI
 * threshold signals using the engine's indicator functions.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createIndicatorState, updateIndicators } from '../../shared/engine/indicators';
import { cachedJson, httpError, json, type HttpResult } from '../../shared/http/response';
import { serveStatic } from '../../web/static';

interface Tick { t: number; price: number; volume: number; open?: number; high?: number; low?: number }
interface Bar { time: number; open: number; high: number; low: number; close: number; volume: number; trades: number; pv: number }
interface Signal { id: string; symbol: string; side: 'BUY' | 'SELL'; rule: string; price: number; barTime: number; indicators: { ma: number | null; ema: number | null; rsi: number | null }; reason: string; createdAt: number }

const INTERVAL_MS = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
type Interval = keyof typeof INTERVAL_MS;
const ticks = new Map<string, Tick[]>();
const econ = [
  { name: 'GDP growth', value: 2.1 },
  { name: 'CPI YoY', value: 3.2 },
  { name: 'Unemployment', value: 3.9 },
];

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function seed(): void {
  const r = rand(42);
  const start = Date.now() - 6 * 3600_000;
  const universe: [string, number][] = [['AAPL', 189], ['MSFT', 415], ['GOOG', 152], ['AMZN', 178], ['TSLA', 182], ['NVDA', 880], ['META', 492], ['JPM', 198]];
  for (const [sym, p0] of universe) {
    let p = p0;
    const list: Tick[] = [];
    for (let t = start; t < Date.now(); t += 20_000) {
      p *= 1 + (r() - 0.5) * 0.004 + Math.sin(t / 2.7e6 + p0) * 0.0006;
      list.push({ t, price: Number(p.toFixed(2)), volume: Math.round(100 + r() * 900) });
    }
    ticks.set(sym, list);
  }
}

function bars(sym: string, interval: Interval): Bar[] {
  const size = INTERVAL_MS[interval];
  const out = new Map<number, Bar>();
  for (const k of [...(ticks.get(sym) ?? [])].sort((a, b) => a.t - b.t)) {
    const time = Math.floor(k.t / size) * size;
    const b = out.get(time);
    if (!b) out.set(time, { time, open: k.open ?? k.price, high: k.high ?? k.price, low: k.low ?? k.price, close: k.price, volume: k.volume, trades: 1, pv: k.price * k.volume });
    else {
      b.high = Math.max(b.high, k.high ?? k.price);
      b.low = Math.min(b.low, k.low ?? k.price);
      b.close = k.price;
      b.volume += k.volume;
      b.trades++;
      b.pv += k.price * k.volume;
    }
  }
  return [...out.values()].sort((a, b) => a.time - b.time);
}

function analyze(sym: string): { values: ReturnType<typeof updateIndicators>; signals: Signal[] } {
  const all = bars(sym, '1m');
  const closed = all.slice(0, -1);
  const st = createIndicatorState({ ma: 20, ema: 20, rsi: 14 });
  const signals: Signal[] = [];
  let prev: number | null = null;
  let values = { ma: null, ema: null, rsi: null } as ReturnType<typeof updateIndicators>;
  for (const b of closed) {
    values = updateIndicators(st, b.close);
    const rsi = values.rsi;
    if (prev !== null && rsi !== null) {
      const side = prev < 30 && rsi >= 30 ? 'BUY' : prev > 70 && rsi <= 70 ? 'SELL' : null;
      if (side) {
        signals.push({
          id: `${sym}:rsi-threshold:${b.time}`, symbol: sym, side, rule: 'rsi-threshold', price: b.close, barTime: b.time, indicators: values,
          reason: `RSI ${rsi.toFixed(1)} crossed ${side === 'BUY' ? 'up through 30' : 'down through 70'}`, createdAt: b.time + 60_000,
        });
      }
    }
    prev = rsi;
  }
  return { values, signals };
}

const iso = (t: number): string => new Date(t).toISOString();

function summary(sym: string) {
  const list = ticks.get(sym) ?? [];
  const last = list[list.length - 1];
  const first = list[0];
  return {
    symbol: sym,
    lastPrice: last?.price ?? null,
    lastTimestamp: last ? iso(last.t) : null,
    changePct: last && first ? ((last.price - first.price) / first.price) * 100 : null,
    indicators: analyze(sym).values,
  };
}

const SYMBOL = /^[A-Z0-9.-]{1,12}$/;

function route(event: APIGatewayProxyEventV2, body: unknown): HttpResult {
  const method = event.requestContext.http.method;
  const path = event.rawPath;
  const q = new URLSearchParams(event.rawQueryString);
  const m = /^\/symbols\/([^/]+)(\/bars)?$/.exec(path);
  if (method === 'GET' && path === '/symbols') return cachedJson(event, { items: [...ticks.keys()].sort().map(summary) });
  if (method === 'GET' && m) {
    const sym = decodeURIComponent(m[1]!).toUpperCase();
    if (!ticks.has(sym)) return httpError(404, 'not_found', `Unknown symbol ${sym}`);
    if (!m[2]) {
      const open = bars(sym, '1m').at(-1);
      return cachedJson(event, {
        ...summary(sym),
        openBar: open ? { time: iso(open.time), open: open.open, high: open.high, low: open.low, close: open.close, volume: open.volume, vwap: open.pv / open.volume, trades: open.trades, provisional: analyze(sym).values } : null,
        sentiment: { score: 0.31, magnitude: 0.6, timestamp: iso(Date.now()) },
        marketData: { marketCap: 2.9e12, peRatio: 29.4, timestamp: iso(Date.now()) },
        orderBook: null,
      });
    }
    const interval = (q.get('interval') ?? '1m') as Interval;
    if (!(interval in INTERVAL_MS)) return httpError(400, 'invalid_request', 'Invalid query parameters', [{ field: 'interval', message: 'interval must be one of 1m, 5m, 1h, 1d' }]);
    let list = bars(sym, interval);
    const limit = Number(q.get('limit') ?? 200);
    list = q.get('order') === 'desc' ? list.slice(-limit).reverse() : list.slice(0, limit);
    return cachedJson(event, {
      symbol: sym, interval,
      items: list.map((b) => ({ time: iso(b.time), open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume, vwap: b.pv / b.volume, trades: b.trades })),
      nextCursor: null,
    });
  }
  if (method === 'GET' && path === '/signals') {
    const sym = q.get('symbol')?.toUpperCase();
    const all = [...ticks.keys()].filter((s) => !sym || s === sym).flatMap((s) => analyze(s).signals);
    all.sort((a, b) => b.barTime - a.barTime);
    const items = all.slice(0, Number(q.get('limit') ?? 50)).map((s) => ({ ...s, barTime: iso(s.barTime), createdAt: iso(s.createdAt) }));
    return cachedJson(event, { items, nextCursor: null });
  }
  if (method === 'GET' && path === '/market/overview') {
    const sums = [...ticks.keys()].map(summary);
    const byChange = [...sums].sort((a, b) => (b.changePct ?? 0) - (a.changePct ?? 0));
    const sigs = [...ticks.keys()].flatMap((s) => analyze(s).signals);
    return cachedJson(event, {
      asOf: iso(Date.now()),
      breadth: { advancers: sums.filter((s) => (s.changePct ?? 0) > 0).length, decliners: sums.filter((s) => (s.changePct ?? 0) < 0).length, unchanged: sums.filter((s) => s.changePct === 0).length },
      topGainers: byChange.slice(0, 3).map((s) => ({ symbol: s.symbol, lastPrice: s.lastPrice, changePct: s.changePct })),
      topLosers: byChange.slice(-3).reverse().map((s) => ({ symbol: s.symbol, lastPrice: s.lastPrice, changePct: s.changePct })),
      mostActive: [...ticks.keys()].map((s) => ({ symbol: s, volume: (ticks.get(s) ?? []).reduce((v, k) => v + k.volume, 0), lastPrice: summary(s).lastPrice, day: iso(Date.now()) })).sort((a, b) => b.volume - a.volume).slice(0, 3),
      signals: { since: iso(Date.now() - 86400_000), total: sigs.length, bySide: { BUY: sigs.filter((s) => s.side === 'BUY').length, SELL: sigs.filter((s) => s.side === 'SELL').length }, byRule: { 'rsi-threshold': sigs.length } },
      economicIndicators: econ.map((e) => ({ ...e, timestamp: iso(Date.now()) })),
    });
  }
  if (method === 'POST' && path === '/ticks') {
    const records = Array.isArray(body) ? body : [body];
    let accepted = 0;
    for (const r of records as Record<string, unknown>[]) {
      const sym = String(r.symbol ?? '');
      const t = typeof r.timestamp === 'number' ? r.timestamp : Date.parse(String(r.timestamp));
      const close = Number(r.close);
      if (!SYMBOL.test(sym) || !Number.isFinite(t) || !(close > 0)) continue;
      if (!ticks.has(sym)) ticks.set(sym, []);
      ticks.get(sym)!.push({ t, price: close, volume: Number(r.volume ?? 0), open: Number(r.open ?? close), high: Number(r.high ?? close), low: Number(r.low ?? close) });
      accepted++;
    }
    return json(202, { accepted, rejected: [] });
  }
  if (method === 'POST' && path === '/subscriptions') {
    const b = (body ?? {}) as Record<string, unknown>;
    const fields: { field: string; message: string }[] = [];
    const endpoint = typeof b.endpoint === 'string' ? b.endpoint : '';
    if (!['email', 'sms', 'https', 'sqs'].includes(String(b.protocol))) fields.push({ field: 'protocol', message: 'protocol must be one of email, sms, https, sqs' });
    else if (!endpoint) fields.push({ field: 'endpoint', message: 'endpoint must not be empty' });
    else if (b.protocol === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(endpoint)) fields.push({ field: 'endpoint', message: `endpoint must be an email address for protocol email, got "${endpoint}"` });
    else if (b.protocol === 'sms' && !/^\+[1-9]\d{6,14}$/.test(endpoint)) fields.push({ field: 'endpoint', message: 'endpoint must be an E.164 phone number such as +14155550100' });
    else if (b.protocol === 'https' && !/^https:\/\//.test(endpoint)) fields.push({ field: 'endpoint', message: 'endpoint must be an https:// URL' });
    if (Array.isArray(b.symbols)) b.symbols.forEach((s, i) => { if (!SYMBOL.test(String(s))) fields.push({ field: `symbols.${i}`, message: `symbols must be 1 to 12 characters of A-Z, 0-9, "." or "-", got "${String(s)}"` }); });
    if (Array.isArray(b.sides) && b.sides.length === 0) fields.push({ field: 'sides', message: 'sides must list at least one side, or be omitted for both' });
    if (fields.length) return httpError(400, 'invalid_request', 'The subscription request is invalid', fields);
    return json(201, { id: `sub-${Date.now()}`, protocol: b.protocol, endpoint, symbols: b.symbols ?? null, sides: b.sides ?? null, status: b.protocol === 'sms' ? 'confirmed' : 'pending-confirmation' });
  }
  if (method === 'GET' && path === '/health') return json(200, { status: 'ok' });
  return httpError(404, 'not_found', `No route for ${method} ${path}`);
}

function toEvent(req: IncomingMessage, url: URL): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
  return {
    version: '2.0', routeKey: '$default', rawPath: url.pathname, rawQueryString: url.search.slice(1), headers,
    requestContext: { http: { method: req.method ?? 'GET', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: '' } },
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}

function send(res: ServerResponse, r: HttpResult): void {
  res.writeHead(r.statusCode, r.headers);
  res.end(r.body ? Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8') : undefined);
}

export function startMockApi(port: number): Promise<() => Promise<void>> {
  seed();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = toEvent(req, url);
      const st = serveStatic(event);
      if (st) return send(res, st);
      let body: unknown;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      } catch {
        return send(res, httpError(400, 'malformed_json', 'Request body is not valid JSON'));
      }
      send(res, route(event, body));
    });
  });
  return new Promise((resolve) => server.listen(port, () => resolve(() => new Promise((r) => server.close(() => r())))));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : 3999;
  await startMockApi(port);
  console.log(`mock API (development only) on http://localhost:${port}`);
}
