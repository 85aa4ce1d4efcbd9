/** Hash routes, so the server only ever serves index.html and assets. Pure. */

export type Route =
  | { name: 'overview'; params: URLSearchParams }
  | { name: 'symbol'; symbol: string; params: URLSearchParams }
  | { name: 'subscribe'; params: URLSearchParams }
  | { name: 'not-found'; path: string; params: URLSearchParams };

/** The engine's symbol format: uppercase letters, digits, '.' and '-', 1 to 12 characters. */
const SYMBOL = /^[A-Z0-9.-]{1,12}$/;

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const params = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return { name: 'overview', params };
  if (parts[0] === 'alerts' || parts[0] === 'subscribe') return { name: 'subscribe', params };
  if (parts[0] === 'symbol' && parts.length === 2) {
    let symbol: string;
    try {
      symbol = decodeURIComponent(parts[1]!).toUpperCase();
    } catch {
      return { name: 'not-found', path, params };
    }
    if (SYMBOL.test(symbol)) return { name: 'symbol', symbol, params };
  }
  return { name: 'not-found', path, params };
}
