/**
 * Runs the browser tests (and the dashboard's pure tests beside them) as one step:
 * makes sure Chromium is installed, runs jest with test/browser/jest.config.js, and
 * ends with "N passed, N failed"; the exit code is non-zero on any failure.
 *
 *   API_URL=http://localhost:3000 bash scripts/dev.sh run test/browser/run.ts [jest args]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM } from './helpers';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const report = path.join(ROOT, 'artifacts', 'browser-tests.json');

if (!existsSync(CHROMIUM)) {
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'browser.sh')], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`0 passed, 1 failed (no browser at ${CHROMIUM})`);
    process.exit(1);
  }
}

mkdirSync(path.dirname(report), { recursive: true });
const jest = spawnSync(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
    '--config',
    path.join(ROOT, 'test', 'browser', 'jest.config.js'),
    '--json',
    '--outputFile',
    report,
    ...process.argv.slice(2),
  ],
  { cwd: ROOT, stdio: 'inherit' },
);

let passed = 0;
let failed: number;
try {
  const r = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number; numRuntimeErrorTestSuites: number };
  passed = r.numPassedTests;
  // A suite that fails before its tests run (API down, no browser) counts as one failure.
  failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
} catch {
  failed = 1;
}
if (jest.status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
