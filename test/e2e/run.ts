/**
 * The end-to-end step of the test command: the main job in a sandbox (its own
 * topics, Redis database, SQLite file and SNS topic), then `npm run verify` and the
 * browser tests against it, then a CI-sized chaos run (which builds its own
 * pipelines). Ends with "N passed, N failed".
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { startMainJob, type MainJob } from '../../local/main-process';
import { createSandbox } from '../../local/sandbox';

const ROOT = resolve(import.meta.dirname, '../..');
const results: { name: string; ok: boolean; seconds: number }[] = [];

function run(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  const t0 = performance.now();
  console.log(`\n--> ${name}`);
  return new Promise((done) => {
    const p = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, stdio: 'inherit' });
    p.on('exit', (code) => {
      const ok = code === 0;
      results.push({ name, ok, seconds: (performance.now() - t0) / 1000 });
      console.log(`<-- ${name}: ${ok ? 'passed' : `FAILED (exit ${code})`}`);
      done(ok);
    });
  });
}

const sandbox = await createSandbox({ name: 'e2e' });
let main: MainJob | undefined;
try {
  main = await startMainJob(sandbox.env);
  console.log(`main job running at ${main.url} (namespace ${sandbox.namespace})`);
  const env = { ...sandbox.env, API_URL: main.url };
  await run('npm run verify', ['cli/verify.ts', '--url', main.url], env);
  await run('browser tests (chromium)', ['test/browser/run.ts'], env);
} catch (err) {
  console.error(err);
  results.push({ name: 'start the main job', ok: false, seconds: 0 });
} finally {
  await main?.stop();
  await sandbox.cleanup();
}
await run('chaos (CI size)', ['cli/chaos.ts', ...(process.env.CHAOS_ARGS ?? '--kills 20 --seed 1 --drain-timeout 300').split(' ')], { ...process.env });

console.log('\nend-to-end step');
for (const r of results) console.log(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.name} (${r.seconds.toFixed(1)} s)`);
const failed = results.filter((r) => !r.ok).length;
console.log(`e2e: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
