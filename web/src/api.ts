import { num, toMillis } from './format';

/**
 * The dashboard's view of the query API. Responses are normalized tolerantly: a
 * missing or renamed optional field degrades one widget, never the page.
 */

export interface Indicators { ma: number | null; ema: number | null; rsi: number | null }
export interface SymbolSummary {
  symbol: string;
  lastPrice: number | null;
  lastTimestamp: number | null;
  changePct: number | null;
  indicators: Indicators;
  /** Recent closes, when the API includes them; otherwise the tile fetches bars. */
  sparkline: number[] | null;
}
export interface Bar { time: number; open: number; high: number; low: number; close: number; volume: number; vwap: number | null; trades: number | null }
export interface SymbolDetail {
  symbol: string;
  lastPrice: number | null;
  lastTimestamp: number | null;
  changePct: number | null;
  indicators: Indicators;
  openBar: (Bar & { provisional: Indicators }) | null;
  sentiment: { score: number | null; magnitude: number | null; time: number | null } | null;
  marketData: { marketCap: number | null; peRatio: number | null; time: number | null } | null;
  /** The deployment's indicator periods, when the API reports them; the defaults otherwise. */
  periods: { ma: number; ema: number; rsi: number } | null;
}
export type Side = 'BUY' | 'SELL';
export interface Signal {
  id: string;
  symbol: string;
  side: Side;
  rule: string;
  price: number | null;
  barTime: number | null;
  reason: string;
  createdAt: number | null;
  indicators: Indicators;
}
export interface Mover { symbol: string; changePct: number | null; lastPrice: number | null; volume: number | null }
export interface EconomicIndicator { name: string; value: number | null; time: number | null }
export interface MarketOverview {
  advancers: number | null;
  decliners: number | null;
  unchanged: number | null;
  topGainers: Mover[];
  topLosers: Mover[];
  mostActive: Mover[];
  signals: SignalCounts;
  economic: EconomicIndicator[];
}
export interface SignalCounts { total: number | null; buy: number | null; sell: number | null; byRule: { rule: string; count: number }[]; since: number | null }
export interface Page<T> { items: T[]; nextCursor: string | null }
export interface FieldError { field: string; message: string }

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
/** The first present key: field names are read tolerantly while the API settles. */
const pick = (o: Obj, ...keys: string[]): unknown => {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
};

export function parseIndicators(v: unknown): Indicators {
  const o = obj(v);
  return { ma: num(o.ma ?? o.sma), ema: num(o.ema), rsi: num(o.rsi) };
}

export function parseBar(v: unknown): Bar | null {
  const o = obj(v);
  const time = toMillis(pick(o, 'time', 'start', 'startTime', 'timestamp'));
  const open = num(o.open), high = num(o.high), low = num(o.low), close = num(o.close);
  if (time === null || open === null || high === null || low === null || close === null) return null;
  return { time, open, high, low, close, volume: num(o.volume) ?? 0, vwap: num(o.vwap), trades: num(pick(o, 'trades', 'count')) };
}

function parseSparkline(v: unknown): number[] | null {
  if (!Array.isArray(v)) return null;
  const out = v.map((p) => (isObj(p) ? num(p.close ?? p.value) : num(p))).filter((n): n is number => n !== null);
  return out.length ? out : null;
}

export function parseSymbolSummary(v: unknown): SymbolSummary | null {
  const o = obj(v);
  const symbol = str(o.symbol);
  if (!symbol) return null;
  return {
    symbol,
    lastPrice: num(pick(o, 'lastPrice', 'price', 'close')),
    lastTimestamp: toMillis(pick(o, 'lastTimestamp', 'timestamp', 'time')),
    changePct: num(pick(o, 'changePct', 'changePercent', 'change')),
    indicators: parseIndicators(o.indicators),
    sparkline: parseSparkline(pick(o, 'sparkline', 'closes')),
  };
}

export function parseSymbols(v: unknown): SymbolSummary[] {
  const o = obj(v);
  const items = Array.isArray(v) ? v : arr(o.items);
  return items.map(parseSymbolSummary).filter((s): s is SymbolSummary => s !== null);
}

function parsePeriods(v: unknown): SymbolDetail['periods'] {
  const o = obj(v);
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 1000;
  return ok(o.ma) && ok(o.ema) && ok(o.rsi) ? { ma: o.ma, ema: o.ema, rsi: o.rsi } : null;
}

function openBar(v: unknown): (Bar & { provisional: Indicators }) | null {
  const b = parseBar(v);
  return b && { ...b, provisional: parseIndicators(obj(v).provisional) };
}

export function parseSymbolDetail(v: unknown): SymbolDetail | null {
  const base = parseSymbolSummary(v);
  if (!base) return null;
  const o = obj(v);
  const s = isObj(o.sentiment) ? o.sentiment : null;
  const m = isObj(o.marketData) ? o.marketData : null;
  return {
    symbol: base.symbol,
    lastPrice: base.lastPrice,
    lastTimestamp: base.lastTimestamp,
    changePct: base.changePct,
    indicators: base.indicators,
    openBar: openBar(o.openBar),
    sentiment: s && {
      score: num(pick(s, 'score', 'sentimentScore')),
      magnitude: num(pick(s, 'magnitude', 'sentimentMagnitude')),
      time: toMillis(pick(s, 'timestamp', 'time', 'updatedAt')),
    },
    periods: parsePeriods(o.periods),
    marketData: m && {
      marketCap: num(pick(m, 'marketCap')),
      peRatio: num(pick(m, 'peRatio', 'pe')),
      time: toMillis(pick(m, 'timestamp', 'time', 'updatedAt')),
    },
  };
}

export function parseBars(v: unknown): Page<Bar> {
  const o = obj(v);
  return {
    items: arr(o.items).map(parseBar).filter((b): b is Bar => b !== null),
    nextCursor: typeof o.nextCursor === 'string' && o.nextCursor ? o.nextCursor : null,
  };
}

export function parseSignal(v: unknown): Signal | null {
  const o = obj(v);
  const side = str(o.side).toUpperCase();
  const symbol = str(o.symbol);
  if (!symbol || (side !== 'BUY' && side !== 'SELL')) return null;
  const barTime = toMillis(pick(o, 'barTime', 'time'));
  return {
    id: str(o.id) || `${symbol}:${str(o.rule)}:${barTime ?? ''}`,
    symbol,
    side,
    rule: str(o.rule),
    price: num(o.price),
    barTime,
    reason: str(o.reason),
    createdAt: toMillis(o.createdAt) ?? barTime,
    indicators: parseIndicators(o.indicators),
  };
}

export function parseSignals(v: unknown): Page<Signal> {
  const o = obj(v);
  return {
    items: arr(o.items).map(parseSignal).filter((s): s is Signal => s !== null),
    nextCursor: typeof o.nextCursor === 'string' && o.nextCursor ? o.nextCursor : null,
  };
}

function parseMovers(v: unknown): Mover[] {
  return arr(v)
    .map((m) => {
      if (typeof m === 'string') return { symbol: m, changePct: null, lastPrice: null, volume: null };
      const o = obj(m);
      const symbol = str(o.symbol);
      if (!symbol) return null;
      return {
        symbol,
        changePct: num(pick(o, 'changePct', 'changePercent', 'change')),
        lastPrice: num(pick(o, 'lastPrice', 'price', 'close')),
        volume: num(pick(o, 'volume', 'totalVolume')),
      };
    })
    .filter((m): m is Mover => m !== null);
}

function parseCounts(v: unknown): SignalCounts {
  const o = obj(v);
  const bySide = obj(pick(o, 'bySide', 'sides'));
  const byRule = obj(pick(o, 'byRule', 'rules'));
  const buy = num(pick(bySide, 'BUY', 'buy') ?? o.buy ?? o.BUY);
  const sell = num(pick(bySide, 'SELL', 'sell') ?? o.sell ?? o.SELL);
  return {
    total: num(o.total) ?? (buy !== null || sell !== null ? (buy ?? 0) + (sell ?? 0) : null),
    buy,
    sell,
    byRule: Object.entries(byRule)
      .map(([rule, c]) => ({ rule, count: num(c) ?? 0 }))
      .sort((a, b) => b.count - a.count),
    since: toMillis(o.since),
  };
}

function parseEconomic(v: unknown): EconomicIndicator[] {
  if (isObj(v)) {
    // Also accept a map of name → value or name → {value, timestamp}.
    return Object.entries(v).map(([name, val]) => ({
      name,
      value: isObj(val) ? num(val.value) : num(val),
      time: isObj(val) ? toMillis(pick(val, 'timestamp', 'time', 'updatedAt')) : null,
    }));
  }
  return arr(v)
    .map((e) => {
      const o = obj(e);
      const name = str(pick(o, 'name', 'indicatorName', 'indicator'));
      return name ? { name, value: num(o.value), time: toMillis(pick(o, 'timestamp', 'time', 'updatedAt')) } : null;
    })
    .filter((e): e is EconomicIndicator => e !== null);
}

export function parseOverview(v: unknown): MarketOverview {
  const o = obj(v);
  const breadth = obj(o.breadth);
  const movers = obj(o.movers);
  return {
    advancers: num(pick(o, 'advancers') ?? breadth.advancers),
    decliners: num(pick(o, 'decliners') ?? breadth.decliners),
    unchanged: num(pick(o, 'unchanged') ?? breadth.unchanged),
    topGainers: parseMovers(pick(o, 'topGainers', 'gainers') ?? movers.gainers),
    topLosers: parseMovers(pick(o, 'topLosers', 'losers') ?? movers.losers),
    mostActive: parseMovers(pick(o, 'mostActive', 'active') ?? movers.mostActive),
    signals: parseCounts(pick(o, 'signals', 'signalCounts')),
    economic: parseEconomic(pick(o, 'economicIndicators', 'economic', 'indicators')),
  };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
  }
}

/** The API's error envelope `{error: {code, message, fields}}`, or a generic one for anything else. */
export function parseError(status: number, body: unknown): ApiError {
  const e = obj(obj(body).error);
  const fields = arr(e.fields)
    .map((f) => {
      const o = obj(f);
      return { field: str(pick(o, 'field', 'path')), message: str(o.message) };
    })
    .filter((f) => f.message !== '');
  const message = str(e.message) || `Request failed with HTTP ${status}`;
  return new ApiError(status, str(e.code) || `http_${status}`, message, fields);
}

export type Fetched<T> = { modified: true; data: T; etag: string | null } | { modified: false };

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'bad_response', `The server sent invalid JSON (HTTP ${res.status})`);
  }
}

/**
 * A conditional GET. The ETag goes in If-None-Match by hand and the HTTP cache is
 * bypassed, so an unchanged resource costs a bodiless 304 and no re-render.
 */
export async function getJson<T>(path: string, parse: (raw: unknown) => T, etag?: string | null, signal?: AbortSignal): Promise<Fetched<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (etag) headers['if-none-match'] = etag;
  const res = await fetch(path, { headers, cache: 'no-store', ...(signal ? { signal } : {}) });
  if (res.status === 304) return { modified: false };
  const body = await readJson(res);
  if (!res.ok) throw parseError(res.status, body);
  return { modified: true, data: parse(body), etag: res.headers.get('etag') };
}

export async function postJson(path: string, payload: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(payload),
  });
  const body = await readJson(res);
  if (!res.ok) throw parseError(res.status, body);
  return { status: res.status, body };
}

export const paths = {
  symbols: () => '/symbols',
  symbol: (s: string) => `/symbols/${encodeURIComponent(s)}`,
  bars: (s: string, q: Record<string, string | number | undefined>) => `/symbols/${encodeURIComponent(s)}/bars${query(q)}`,
  signals: (q: Record<string, string | number | undefined>) => `/signals${query(q)}`,
  overview: () => '/market/overview',
  subscriptions: () => '/subscriptions',
};

export function query(q: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}
