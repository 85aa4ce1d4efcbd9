import { createHash } from 'node:crypto';
import { z } from 'zod';
import { invalid } from './errors';

/**
 * Opaque page cursors: base64url JSON of {v, r: route, f: filter fingerprint, k: key}.
 * The fingerprint binds a cursor to the filters it was issued for, so reusing it
 * with other filters is a clear 400 instead of a silently wrong page. Cursors are
 * not secret: a hand-made one can only select another valid page.
 */

const VERSION = 1;

function fingerprint(filters: Record<string, unknown>): string {
  const canonical = JSON.stringify(Object.keys(filters).sort().map((k) => [k, filters[k] ?? null]));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 12);
}

export function encodeCursor(route: string, filters: Record<string, unknown>, key: unknown): string {
  return Buffer.from(JSON.stringify({ v: VERSION, r: route, f: fingerprint(filters), k: key }), 'utf8').toString('base64url');
}

const envelope = z.object({ v: z.literal(VERSION), r: z.string(), f: z.string(), k: z.unknown() });

export function decodeCursor<T>(text: string, route: string, filters: Record<string, unknown>, keySchema: z.ZodType<T>): T {
  const bad = (why: string) => invalid([{ field: 'cursor', message: `cursor ${why}; pass back the nextCursor value unchanged` }], 'Invalid cursor');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad('is not a cursor issued by this API');
  }
  const env = envelope.safeParse(json);
  if (!env.success || env.data.r !== route) throw bad('is not a cursor issued by this API');
  if (env.data.f !== fingerprint(filters)) throw bad('was issued for different filters');
  const key = keySchema.safeParse(env.data.k);
  if (!key.success) throw bad('is not a cursor issued by this API');
  return key.data;
}
