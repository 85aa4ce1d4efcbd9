import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { ROOT } from './env';

export interface MainJob {
  url: string;
  child: ChildProcess;
  /** Ctrl-C, as a user would, and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Runs `local/main.ts` as a child process (without the generator feed), resolving
 * once its API listens and every stream function is ready. Tests, the end-to-end
 * step and benchmarks use it with a sandbox's environment.
 */
export async function startMainJob(env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<MainJob> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'local/main.ts'), '--no-feed', '--no-signal-feed', '--port', '0'], {
    cwd: ROOT,
    env: { LOG_LEVEL: 'WARN', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`main did not become ready in ${timeoutMs} ms:\n${out.slice(-3000)}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out = (out + stripVTControlCharacters(d.toString())).slice(-20_000);
      const u = /API listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (u && out.includes('stream functions ready')) {
        clearTimeout(timer);
        ok(u);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`main exited with ${code}:\n${out.slice(-3000)}`));
    });
  });
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    },
  };
}
