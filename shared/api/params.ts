import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import type { FieldError } from '../http/response';
import { parseIsoTimestamp, SYMBOL_PATTERN } from '../schema/records';
import { invalid } from './errors';

/**
 * Query-string and path parameter schemas. Inputs are strings (that is what a
 * query string holds); each schema validates the text, then converts it, and
 * every failure message names the parameter and quotes (a prefix of) the value.
 */

export type Query = Record<string, string>;

/** Longest value echoed back in an error message: hostile inputs can be megabytes long. */
function shown(v: unknown): string {
  const s = String(v);
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

export const MAX_PAGE_LIMIT = 1000;
export const DEFAULT_PAGE_LIMIT = 200;

export function limitParam(max = MAX_PAGE_LIMIT, def = DEFAULT_PAGE_LIMIT) {
  const message = (iss: { input: unknown }) => `limit must be an integer from 1 to ${max}, got ${shown(iss.input)}`;
  return z
    .string()
    .regex(/^[0-9]{1,9}$/, { error: message })
    .transform(Number)
    .pipe(z.number().int().min(1, { error: message }).max(max, { error: message }))
    .optional()
    .meta({ description: `Page size, 1 to ${max} (default ${def}); larger values are refused, not capped` });
}

/** Epoch milliseconds (digits only) or an ISO-8601 date / date-time with a zone. */
export function timeParam(name: string, description: string) {
  return z
    .string()
    .max(40, { error: (iss) => `${name} is too long to be a time, got ${shown(iss.input)}` })
    .transform((v, ctx): number => {
      if (/^[0-9]{1,15}$/.test(v)) return Number(v);
      const iso = parseIsoTimestamp(v);
      if (iso.ok) return iso.ms;
      ctx.addIssue({ code: 'custom', message: `${name} must be epoch milliseconds or an ISO-8601 time such as 2024-05-01T13:30:00Z; ${shown(v)} ${iso.message}` });
      return z.NEVER;
    })
    .optional()
    .meta({ description: `${description}: epoch milliseconds or ISO-8601 (e.g. 2024-05-01T13:30:00Z)`, examples: ['2024-05-01T13:30:00Z'] });
}

/**
 * A symbol from a path or query. Lowercase ASCII letters are accepted and upper-cased;
 * anything else outside the symbol alphabet (path separators, quotes, Unicode) is refused.
 */
export function parseSymbol(raw: string, field = 'symbol'): { ok: true; symbol: string } | { ok: false; error: FieldError } {
  if (/^[A-Za-z0-9.-]+$/.test(raw)) {
    if (raw.length > 12) return { ok: false, error: { field, message: `${field} must be at most 12 characters, got ${raw.length}` } };
    const upper = raw.toUpperCase();
    if (SYMBOL_PATTERN.test(upper)) return { ok: true, symbol: upper };
  }
  return { ok: false, error: { field, message: `${field} must be 1 to 12 characters of A-Z, 0-9, "." or "-", got ${shown(raw)}` } };
}

export function symbolParam(field = 'symbol') {
  return z
    .string()
    .transform((v, ctx): string => {
      const r = parseSymbol(v, field);
      if (r.ok) return r.symbol;
      ctx.addIssue({ code: 'custom', message: r.error.message });
      return z.NEVER;
    })
    .meta({ description: 'Ticker symbol: 1 to 12 of A-Z, 0-9, "." or "-" (lowercase is upper-cased)', examples: ['AAPL'] });
}

export const cursorParam = z
  .string()
  .max(512, { error: 'cursor is too long; pass back the nextCursor value unchanged' })
  .regex(/^[A-Za-z0-9_-]+$/, { error: 'cursor is malformed; pass back the nextCursor value unchanged' })
  .optional()
  .meta({ description: 'Opaque cursor from a previous page\'s nextCursor; only valid with the same filters' });

/** Query parameters of a request, whether the event carries them parsed (API Gateway) or only raw. */
export function readQuery(event: Pick<APIGatewayProxyEventV2, 'queryStringParameters' | 'rawQueryString'>): Query {
  // Null prototype: a parameter named __proto__ must stay an own key (and so be refused as unknown),
  // not silently become the object's prototype.
  const out: Query = Object.create(null) as Query;
  if (event.queryStringParameters) {
    for (const [k, v] of Object.entries(event.queryStringParameters)) if (v !== undefined) out[k] = v;
    return out;
  }
  if (!event.rawQueryString) return out;
  // API Gateway joins repeated parameters with commas; do the same so both paths validate alike.
  for (const [k, v] of new URLSearchParams(event.rawQueryString)) out[k] = Object.hasOwn(out, k) ? `${out[k]},${v}` : v;
  return out;
}

export function zodFieldErrors(err: z.ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of err.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ field: [...issue.path, key].map(String).join('.') || key, message: `unknown field ${shown(key)}` });
      continue;
    }
    out.push({ field: issue.path.length ? issue.path.map(String).join('.') : '(root)', message: issue.message });
  }
  return out.slice(0, 20);
}

/** Validates a query against a strict object schema: unknown parameters are errors too, so typos never pass silently. */
export function parseQuery<S extends z.ZodType>(schema: S, query: Query): z.output<S> {
  const r = schema.safeParse(query);
  if (r.success) return r.data;
  const fields = zodFieldErrors(r.error).map((f) => (f.message.startsWith('unknown field') ? { ...f, message: f.message.replace('unknown field', 'unknown query parameter') } : f));
  throw invalid(fields, 'Invalid query parameters');
}
