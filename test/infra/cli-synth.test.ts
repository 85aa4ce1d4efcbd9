import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, scratchDir } from './fixtures';

/** The real `cdk synth` (cdk.json's app command), offline: no credentials, no notices, no telemetry, no bundling. */
function cdkSynth(args: string[]) {
  const outdir = scratchDir('market-cli-synth-');
  const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_EC2_METADATA_DISABLED: 'true', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_CONFIG_FILE: '/dev/null' };
  for (const key of ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'CDK_DEFAULT_ACCOUNT', 'CDK_DEFAULT_REGION']) delete env[key];
  // The test runner's own node (24) first on PATH, as scripts/dev.sh arranges for developers.
  env.PATH = `${path.dirname(process.execPath)}:${path.join(REPO_ROOT, 'node_modules', '.bin')}:${env.PATH ?? ''}`;
  const result = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk'), ['synth', '--no-notices', '--quiet', '-o', outdir, '-c', 'bundling=false', ...args], {
    cwd: REPO_ROOT,
    env,
    encoding: 'utf8',
    timeout: 150_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}`, outdir };
}

describe('cdk synth (CLI)', () => {
  it('synthesizes every stack of the committed cdk.json offline, with cdk-nag passing', () => {
    const { status, output, outdir } = cdkSynth([]);
    expect({ status, output: status === 0 ? '' : output }).toEqual({ status: 0, output: '' });
    const templates = readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
    expect(templates.sort()).toEqual(['api', 'cache', 'functions', 'network', 'notifications', 'observability', 'storage', 'stream'].map((s) => `market-dev-${s}.template.json`));
    // The cdk-nag plugin ran inside synthesis (a finding would have failed it) and left no failing report.
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { summary?: { status: string } }[] };
    expect(report.pluginReports.filter((r) => r.summary?.status === 'failure')).toEqual([]);
  }, 180_000);

  it('refuses bad context with one line per key and a non-zero exit', () => {
    const { status, output } = cdkSynth(['-c', 'stage=qa', '-c', 'kafka=external']);
    expect(status).not.toBe(0);
    expect(output).toContain('stage: must be dev or prod (got "qa")');
    expect(output).toContain('kafkaBootstrapServers: required when kafka=external');
    expect(output).toContain('nat: must be true when kafka=external');
  }, 180_000);
});
