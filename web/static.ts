import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { getStringFromEnv } from '../shared/config';
import { httpError, type HttpResult } from '../shared/http/response';

/**
 * Serves the dashboard's built files (web/dist) from the api function, locally and
 * in the cloud, so the dashboard needs no second origin and no CORS.
 *
 * Routes: `GET|HEAD /` (index.html) and `GET|HEAD /assets/{proxy+}`. Anything else
 * returns `undefined` so the API router carries on with its own routes.
 */

const TEXT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};
const BINARY_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
};

/** Build output names carry a content hash (app-3F2A1B.js), so they can be cached forever. */
const HASHED_NAME = /-[A-Z0-9]{8,}\.[a-z0-9]+$/i;
const MAX_CACHED_FILES = 64;
/** Below this, gzip's header costs more than it saves. */
const GZIP_MIN_BYTES = 1024;

interface StaticFile {
  /** mtime and size when read: a rebuild while the server runs is picked up on the next request. */
  stamp: string;
  body: Buffer;
  gzipped?: Buffer;
  contentType: string;
  etag: string;
  cacheControl: string;
  binary: boolean;
}

function defaultDistDir(): string {
  // From source this module sits next to dist/; bundled into a Lambda it sits at the bundle root.
  try {
    return path.join(path.dirname(fileURLToPath(import.meta.url)), 'dist');
  } catch {
    return path.join(process.cwd(), 'web', 'dist');
  }
}

export function webDistDir(env: Record<string, string | undefined> = process.env): string {
  return path.resolve(getStringFromEnv('WEB_DIST_DIR', { default: defaultDistDir(), env }));
}

/**
 * Maps a URL path below the dist root to a file path, refusing anything that could
 * escape it. Returns undefined for a path that is not a plain relative file name.
 */
export function safeJoin(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.length === 0 || segments.some((s) => s === '.' || s === '..' || s.startsWith('.'))) return undefined;
  const full = path.resolve(root, ...segments);
  return full.startsWith(root + path.sep) ? full : undefined;
}

export interface StaticServerOptions {
  /** Overrides WEB_DIST_DIR. */
  distDir?: string;
}

export type StaticServer = (event: APIGatewayProxyEventV2) => HttpResult | undefined;

export function createStaticServer(opts: StaticServerOptions = {}): StaticServer {
  const cache = new Map<string, StaticFile>();

  function root(): string {
    // Resolved per request so WEB_DIST_DIR set after import (tests, local runtime) is honoured.
    const dir = opts.distDir ? path.resolve(opts.distDir) : webDistDir();
    try {
      return realpathSync(dir);
    } catch {
      return dir;
    }
  }

  function load(file: string, rootDir: string): StaticFile | undefined {
    let real: string;
    let stamp: string;
    try {
      real = realpathSync(file);
      const st = statSync(real);
      // A symlink inside dist must not lead outside it either.
      if (!real.startsWith(rootDir + path.sep) || !st.isFile()) return undefined;
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch {
      return undefined;
    }
    const hit = cache.get(real);
    if (hit && hit.stamp === stamp) return hit;
    // Rebuilds leave old hashed names behind; dist holds a handful of files, so this only trims those.
    if (cache.size >= MAX_CACHED_FILES) cache.clear();
    const body = readFileSync(real);
    const ext = path.extname(real).toLowerCase();
    const textType = TEXT_TYPES[ext];
    const contentType = textType ?? BINARY_TYPES[ext] ?? 'application/octet-stream';
    const binary = textType === undefined;
    const compressible = !binary && body.length >= GZIP_MIN_BYTES;
    const entry: StaticFile = {
      stamp,
      body,
      ...(compressible ? { gzipped: gzipSync(body, { level: 9 }) } : {}),
      contentType,
      etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
      cacheControl: HASHED_NAME.test(real) ? 'public, max-age=31536000, immutable' : 'no-cache',
      binary,
    };
    cache.set(real, entry);
    return entry;
  }

  return (event) => {
    const rawPath = event.rawPath || '/';
    const isIndex = rawPath === '/' || rawPath === '/index.html';
    if (!isIndex && !rawPath.startsWith('/assets/')) return undefined;
    const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      const res = httpError(405, 'method_not_allowed', `${method} is not allowed on ${rawPath}; use GET`);
      return { ...res, headers: { ...res.headers, allow: 'GET, HEAD' } };
    }

    const rootDir = root();
    const file = isIndex ? path.join(rootDir, 'index.html') : safeJoin(rootDir, rawPath);
    if (file === undefined) return httpError(400, 'bad_path', `Invalid asset path: ${rawPath}`);
    const entry = load(file, rootDir);
    if (!entry) {
      if (isIndex) {
        return httpError(503, 'dashboard_not_built', `The dashboard is not built: ${path.join(rootDir, 'index.html')} is missing. Run: bash scripts/dev.sh run web/build.ts`);
      }
      return httpError(404, 'not_found', `No such asset: ${rawPath}`);
    }

    const headers: Record<string, string> = {
      'content-type': entry.contentType,
      etag: entry.etag,
      'cache-control': entry.cacheControl,
      'x-content-type-options': 'nosniff',
    };
    if (entry.gzipped) headers.vary = 'accept-encoding';
    if (isIndex) {
      // Everything the page loads is same-origin; the chart library draws on canvas with inline styles.
      headers['content-security-policy'] =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
      headers['referrer-policy'] = 'no-referrer';
    }

    const inm = event.headers?.['if-none-match'];
    if (inm && inm.split(',').some((t) => t.trim() === entry.etag || t.trim() === `W/${entry.etag}` || t.trim() === '*')) {
      return { statusCode: 304, headers, body: '' };
    }
    if (method === 'HEAD') return { statusCode: 200, headers, body: '' };

    const acceptsGzip = /\bgzip\b/i.test(event.headers?.['accept-encoding'] ?? '');
    if (entry.gzipped && acceptsGzip) {
      return { statusCode: 200, headers: { ...headers, 'content-encoding': 'gzip' }, body: entry.gzipped.toString('base64'), isBase64Encoded: true };
    }
    if (entry.binary) return { statusCode: 200, headers, body: entry.body.toString('base64'), isBase64Encoded: true };
    return { statusCode: 200, headers, body: entry.body.toString('utf8'), isBase64Encoded: false };
  };
}

let defaultServer: StaticServer | undefined;

/**
 * The dashboard's files for `GET /` and `GET /assets/*`; `undefined` when the request
 * is not for them. Files stay in memory per process (a Lambda container or the local
 * runtime) and are re-read only when their mtime or size changes.
 */
export function serveStatic(event: APIGatewayProxyEventV2): HttpResult | undefined {
  defaultServer ??= createStaticServer();
  return defaultServer(event);
}
