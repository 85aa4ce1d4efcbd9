import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { ESM_REQUIRE_BANNER, StageFunction } from '../../infra/constructs/stage-function';
import { DASHBOARD_FILES } from '../../infra/stacks/functions-stack';
import { scratchDir } from './fixtures';

/**
 * Real esbuild bundling through NodejsFunction (local, no Docker) with StageFunction's
 * options, for every entry that has no native module: what ships is what runs.
 */
const ENTRIES = {
  'create-topics': 'infra/custom-resources/create-topics.ts',
  ingest: 'functions/ingest/handler.ts',
  process: 'functions/process/handler.ts',
  signal: 'functions/signal/handler.ts',
  notify: 'functions/notify/handler.ts',
  aggregate: 'functions/aggregate/handler.ts',
  api: 'functions/api/handler.ts',
} as const;
/** The functions that open SQLite, as in the functions stack. */
const NATIVE: Partial<Record<keyof typeof ENTRIES, string[]>> = { aggregate: ['better-sqlite3'], api: ['better-sqlite3'] };

let bundles: Record<keyof typeof ENTRIES, string> | undefined;

function bundleAll(): Record<keyof typeof ENTRIES, string> {
  if (bundles) return bundles;
  const outdir = scratchDir('market-bundle-');
  const app = new App({ outdir });
  const stack = new Stack(app, 'bundling-probe');
  const vpc = new ec2.Vpc(stack, 'vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const logKey = new kms.Key(stack, 'log-key');
  const fns = Object.fromEntries(
    Object.entries(ENTRIES).map(([id, entry]) => [
      id,
      new StageFunction(stack, id, {
        entry,
        description: id,
        vpc,
        subnets: { subnetGroupName: 'private' },
        logKey,
        logRetention: 7,
        removalPolicy: RemovalPolicy.DESTROY,
        nativeModules: NATIVE[id as keyof typeof ENTRIES],
        bundledFiles: id === 'api' ? DASHBOARD_FILES : undefined,
      }),
    ]),
  ) as Record<keyof typeof ENTRIES, StageFunction>;
  const assembly = app.synth();
  const template = assembly.getStackByName('bundling-probe').template as { Resources: Record<string, { Properties: { Code?: { S3Key?: string } } }> };
  bundles = Object.fromEntries(
    Object.entries(fns).map(([id, fn]) => {
      const logicalId = stack.resolve((fn.node.defaultChild as lambda.CfnFunction).logicalId) as string;
      // The code asset's key is `<hash>.zip`; the staged bundle sits in `asset.<hash>`.
      const key = template.Resources[logicalId]?.Properties.Code?.S3Key;
      if (!key) throw new Error(`no code asset for ${id}`);
      return [id, path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`)];
    }),
  ) as Record<keyof typeof ENTRIES, string>;
  return bundles;
}

/** ELF header: 64-bit (EI_CLASS 2), little-endian, e_machine 183 = AArch64. */
function isLinuxArm64Elf(file: string): boolean {
  const header = readFileSync(file).subarray(0, 20);
  return header.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) && header[4] === 2 && header[5] === 1 && header.readUInt16LE(18) === 183;
}

describe('function bundles', () => {
  it('emits one ESM file per function, with a source map and the require() shim', () => {
    for (const dir of Object.values(bundleAll())) {
      const code = readFileSync(path.join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      expect(existsSync(path.join(dir, 'index.mjs.map'))).toBe(true);
    }
  }, 120_000);

  it('produces a custom-resource bundle that loads in Node and exports its handler', () => {
    // A child process, as Lambda would: plain Node, no test-runner module system.
    const file = path.join(bundleAll()['create-topics'], 'index.mjs');
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(file)}); console.log(typeof m.handler);`], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: probe.status, stdout: probe.stdout.trim(), stderr: probe.status === 0 ? '' : probe.stderr }).toEqual({ status: 0, stdout: 'function', stderr: '' });
  }, 120_000);

  it('ships better-sqlite3 to the SQLite functions as the Linux arm64 binary only', () => {
    for (const fn of ['aggregate', 'api'] as const) {
      const pkg = path.join(bundleAll()[fn], 'node_modules', 'better-sqlite3');
      expect(readdirSync(path.join(pkg, 'prebuilds'))).toEqual(['linux-arm64.node']);
      expect(isLinuxArm64Elf(path.join(pkg, 'prebuilds', 'linux-arm64.node'))).toBe(true);
      // A compiled build/ would take precedence over the prebuild, and would be for the build host.
      expect(existsSync(path.join(pkg, 'build'))).toBe(false);
    }
  }, 120_000);

  it('ships the built dashboard beside the api handler', () => {
    const dist = path.join(bundleAll().api, 'dist');
    expect(readFileSync(path.join(dist, 'index.html'), 'utf8')).toMatch(/<html/i);
    expect(readdirSync(path.join(dist, 'assets')).some((f) => f.endsWith('.js'))).toBe(true);
  }, 120_000);

  it('keeps better-sqlite3 out of the JavaScript bundle, as an import of the shipped package', () => {
    const code = readFileSync(path.join(bundleAll().aggregate, 'index.mjs'), 'utf8');
    expect(code).toMatch(/from\s*"better-sqlite3"/);
    expect(existsSync(path.join(bundleAll().ingest, 'node_modules'))).toBe(false);
  }, 120_000);
});
