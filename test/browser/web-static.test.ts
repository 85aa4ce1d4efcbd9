import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createStaticServer, safeJoin, webDistDir } from '../../web/static';

/** web/static.ts against a dist folder this test writes, so every expected byte is known. Needs no browser. */

let root: string;
let dist: string;
const INDEX = '<!doctype html><title>t</title><script type="module" src="/assets/app-ABCDEFGH.js"></script>';
const JS = `console.log(${JSON.stringify('x'.repeat(4000))});`;
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0x10, 0x80]);
const SECRET = 'outside the dist folder';

function event(rawPath: string, opts: { method?: string; headers?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: opts.headers ?? {},
    requestContext: { http: { method: opts.method ?? 'GET', path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' } },
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'web-static-'));
  dist = path.join(root, 'dist');
  mkdirSync(path.join(dist, 'assets'), { recursive: true });
  writeFileSync(path.join(dist, 'index.html'), INDEX);
  writeFileSync(path.join(dist, 'assets', 'app-ABCDEFGH.js'), JS);
  writeFileSync(path.join(dist, 'assets', 'logo.png'), PNG);
  writeFileSync(path.join(dist, 'assets', '.env'), 'hidden');
  writeFileSync(path.join(root, 'secret.txt'), SECRET);
  symlinkSync(path.join(root, 'secret.txt'), path.join(dist, 'assets', 'link.txt'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('serveStatic', () => {
  it('serves index.html at / as HTML that is revalidated every time, with a CSP', () => {
    const res = createStaticServer({ distDir: dist })(event('/'))!;
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(INDEX);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('serves hashed assets as immutable with their content type', () => {
    const res = createStaticServer({ distDir: dist })(event('/assets/app-ABCDEFGH.js'))!;
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(JS);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers 304 with no body when If-None-Match carries the ETag, weak or in a list', () => {
    const serve = createStaticServer({ distDir: dist });
    const etag = serve(event('/'))!.headers.etag!;
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const res = serve(event('/', { headers: { 'if-none-match': inm } }))!;
      expect({ inm, status: res.statusCode, body: res.body }).toEqual({ inm, status: 304, body: '' });
    }
    expect(serve(event('/', { headers: { 'if-none-match': '"stale"' } }))!.statusCode).toBe(200);
  });

  it('gzips text for clients that accept it, as base64 the adapter decodes', () => {
    const res = createStaticServer({ distDir: dist })(event('/assets/app-ABCDEFGH.js', { headers: { 'accept-encoding': 'gzip, deflate, br' } }))!;
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toBe('accept-encoding');
    expect(res.isBase64Encoded).toBe(true);
    const body = Buffer.from(res.body!, 'base64');
    expect(body.length).toBeLessThan(JS.length / 10);
    expect(gunzipSync(body).toString('utf8')).toBe(JS);
  });

  it('sends binary files base64-encoded, byte for byte', () => {
    const res = createStaticServer({ distDir: dist })(event('/assets/logo.png'))!;
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.isBase64Encoded).toBe(true);
    expect(Buffer.from(res.body!, 'base64').equals(PNG)).toBe(true);
  });

  it('never serves a file outside dist, whatever the encoding of the path', () => {
    const serve = createStaticServer({ distDir: dist });
    const attempts = [
      '/assets/../../secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e%5c%2e%2e%5csecret.txt',
      '/assets/link.txt',
      '/assets/.env',
      '/assets/app-ABCDEFGH.js%00.png',
      '/assets/%E0%A4%A',
      '/assets/',
    ];
    for (const p of attempts) {
      const res = serve(event(p))!;
      expect({ p, status: [400, 404].includes(res.statusCode) }).toEqual({ p, status: true });
      expect(res.body).not.toContain(SECRET);
      expect(res.body).not.toContain('hidden');
    }
  });

  it('404s a missing asset with the shared JSON error body', () => {
    const res = createStaticServer({ distDir: dist })(event('/assets/nope.js'))!;
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body!)).toEqual({ error: { code: 'not_found', message: 'No such asset: /assets/nope.js' } });
  });

  it('leaves API routes to the router and refuses writes to its own', () => {
    const serve = createStaticServer({ distDir: dist });
    expect(serve(event('/symbols'))).toBeUndefined();
    expect(serve(event('/assetsx/app.js'))).toBeUndefined();
    const post = serve(event('/', { method: 'POST' }))!;
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = serve(event('/', { method: 'HEAD' }))!;
    expect([head.statusCode, head.body, head.headers['content-type']]).toEqual([200, '', 'text/html; charset=utf-8']);
  });

  it('says how to build the dashboard when dist is missing', () => {
    const res = createStaticServer({ distDir: path.join(root, 'missing') })(event('/'))!;
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body!).error.message).toContain('web/build.ts');
  });

  it('picks up a rebuilt file without a restart', () => {
    const serve = createStaticServer({ distDir: dist });
    const before = serve(event('/'))!;
    const next = `${INDEX}<!-- rebuilt -->`;
    writeFileSync(path.join(dist, 'index.html'), next);
    utimesSync(path.join(dist, 'index.html'), new Date(), new Date(Date.now() + 5000));
    const after = serve(event('/'))!;
    expect(after.body).toBe(next);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    writeFileSync(path.join(dist, 'index.html'), INDEX);
  });

  it('reads the dist folder from WEB_DIST_DIR', () => {
    expect(webDistDir({ WEB_DIST_DIR: dist })).toBe(dist);
    expect(webDistDir({})).toMatch(/web[/\\]dist$/);
  });

  it('maps only plain relative names below the root', () => {
    expect(safeJoin('/srv/dist', '/assets/a.js')).toBe('/srv/dist/assets/a.js');
    expect(safeJoin('/srv/dist', '/assets/../../etc/passwd')).toBeUndefined();
    expect(safeJoin('/srv/dist', '/assets/%2E%2E/x')).toBeUndefined();
    expect(safeJoin('/srv/dist', '/assets/a\\b.js')).toBeUndefined();
  });
});
