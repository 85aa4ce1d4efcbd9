import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, type VariantName, scratchDir, synth } from './fixtures';

/** Runs scripts/cfn-lint.sh (project venv, installed on first use) in parseable format. */
function cfnLint(files: string[]): { status: number | null; errors: string[]; output: string } {
  const result = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'cfn-lint.sh'), '--format', 'parseable', ...files], { encoding: 'utf8', timeout: 240_000 });
  const output = `${result.stdout}${result.stderr}`;
  return { status: result.status, errors: result.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line)), output };
}

const templatesOf = (variant: VariantName) => {
  const { outdir } = synth(variant);
  return readdirSync(outdir)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => path.join(outdir, f));
};

describe('cfn-lint', () => {
  it('flags an invalid template (the linter really runs)', () => {
    const dir = scratchDir('cfn-lint-probe-');
    const file = path.join(dir, 'bad.template.json');
    writeFileSync(file, JSON.stringify({ Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeout: 'soon' } } } }));
    const { status, errors } = cfnLint([file]);
    expect(errors).toEqual([expect.stringContaining(':E3012:')]);
    expect((status ?? 0) & 2).toBe(2);
  }, 240_000);

  // One cfn-lint run for all variants: its start-up (loading the resource schemas) dominates.
  it('finds no errors in the templates of dev, prod and external-Kafka deployments', () => {
    const files = (['dev', 'prod', 'external'] as const).flatMap(templatesOf);
    expect(files).toHaveLength(8 + 8 + 7);
    const { status, errors, output } = cfnLint(files);
    expect(errors).toEqual([]);
    // 0 clean, 4 warnings only, 8 informational only: anything else (1, 2, 127...) is a failure to lint.
    expect({ status, output: [0, 4, 8, 12].includes(status ?? -1) ? '' : output }).toEqual({ status: expect.any(Number), output: '' });
  }, 240_000);
});
