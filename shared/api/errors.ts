import { httpError, type FieldError, type HttpResult } from '../http/response';

/** Thrown by route code to answer with a specific status; the router turns it into the shared error body. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toResponse(): HttpResult {
    const r = httpError(this.statusCode, this.code, this.message, this.fields);
    return { ...r, headers: { ...r.headers, ...this.headers } };
  }
}

export function invalid(fields: FieldError[], message = 'The request is invalid'): ApiError {
  return new ApiError(400, 'invalid_request', message, fields);
}

export function notFound(message: string): ApiError {
  return new ApiError(404, 'not_found', message);
}

/** A dependency (Redis, SQLite, SNS) is down or not configured: the client should retry later. */
export function unavailable(what: string, detail?: string): ApiError {
  return new ApiError(503, 'service_unavailable', `${what} is unavailable${detail ? `: ${detail}` : ''}; retry later`, undefined, { 'retry-after': '1' });
}
