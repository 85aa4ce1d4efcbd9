import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { openStore } from '../../../shared/store/db';
import { tempDir } from '../../unit/store/helpers';
import { httpEvent, TEST_REDIS_URL } from './helpers';

/** functions/api/handler.ts wired from its environment, as in Lambda, in a child process. */

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const tmp = tempDir('api-handler-');
afterAll(() => tmp.cleanup());

describe('functions/api/handler', () => {
  it('builds its clients from the environment and answers health, OpenAPI, the dashboard and bad input', () => {
    const sqlitePath = tmp.file('market.db');
    openStore(sqlitePath).close();
    const events = [
      httpEvent('GET', '/health'),
      httpEvent('GET', '/openapi.json'),
      httpEvent('GET', '/'),
      httpEvent('GET', '/symbols/..%2F..%2Fetc%2Fpasswd/bars?limit=1e9'),
    ];
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/integration/api/fixtures/invoke-api.ts'), JSON.stringify(events)], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        SQLITE_PATH: sqlitePath,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_CLUSTER: 'false',
        SIGNAL_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:market-signals',
        AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? 'http://localhost:4566',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        LOG_LEVEL: 'ERROR',
      },
    });
    expect(child.status).toBe(0);
    const [health, openapi, root, hostile] = JSON.parse(child.stdout) as { statusCode: number; body: string; headers: Record<string, string> }[];
    expect(health!.statusCode).toBe(200);
    expect(JSON.parse(health!.body)).toMatchObject({ status: 'ok', checks: { redis: { status: 'ok' }, sqlite: { status: 'ok', schemaVersion: 1 } } });
    expect(JSON.parse(openapi!.body)).toMatchObject({ openapi: '3.1.0' });
    // 200 once the dashboard is built (web/dist), 404 before; never a crash.
    expect([200, 404]).toContain(root!.statusCode);
    expect(hostile!.statusCode).toBe(400);
    expect(JSON.parse(hostile!.body).error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['symbol']);
  });
});
