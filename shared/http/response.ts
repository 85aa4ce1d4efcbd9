import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * HTTP helpers shared by the ingest and api handlers. Every error body has the
 * same JSON shape so clients (and the dashboard) can render field-level errors:
 *   { error: { code, message, fields?: [{ field, message }] } }
 */

export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string> };
export interface FieldError { field: string; message: string }

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function httpError(statusCode: number, code: string, message: string, fields?: FieldError[]): HttpResult {
  return json(statusCode, { error: { code, message, ...(fields && fields.length ? { fields } : {}) } });
}

/**
 * A JSON GET response with a strong ETag over the body, answering 304 when the
 * client already has it. Cache lifetimes are short: the data is live.
 */
export function cachedJson(event: Pick<APIGatewayProxyEventV2, 'headers'>, body: unknown, maxAgeSeconds = 1): HttpResult {
  const text = JSON.stringify(body);
  const etag = `"${createHash('sha1').update(text).digest('base64url')}"`;
  const headers = { ...JSON_HEADERS, etag, 'cache-control': `public, max-age=${maxAgeSeconds}` };
  const inm = event.headers?.['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`)) {
    return { statusCode: 304, headers, body: '' };
  }
  return { statusCode: 200, headers, body: text };
}

/** The request body as UTF-8 text, undoing API Gateway's base64 for binary content types. */
export function bodyText(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): string {
  if (event.body === undefined || event.body === null) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; response: HttpResult };

/**
 * Content-type, size and syntax checks for a JSON request body, in that order, so a
 * client learns the most fundamental problem first. Never throws.
 */
export function parseJsonBody(
  event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded' | 'headers'>,
  opts: { maxBytes: number },
): JsonBody {
  const ct = (event.headers?.['content-type'] ?? '').toLowerCase();
  if (!/^application\/([\w.+-]+\+)?json\b/.test(ct)) {
    return { ok: false, response: httpError(415, 'unsupported_media_type', `Content-Type must be application/json, got "${ct || '(none)'}"`) };
  }
  const text = bodyText(event);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > opts.maxBytes) {
    return { ok: false, response: httpError(413, 'payload_too_large', `Request body is ${bytes} bytes; the limit is ${opts.maxBytes}`) };
  }
  if (text.trim() === '') return { ok: false, response: httpError(400, 'empty_body', 'Request body is empty; expected JSON') };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, response: httpError(400, 'malformed_json', `Request body is not valid JSON: ${(err as Error).message}`) };
  }
}
