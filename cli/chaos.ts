/**
 * npm run chaos -- [--kills N] [--seed S] [--records N] [--symbols N] … (see --help)
 *
 * Runs the fault harness (shared/chaos/harness.ts) against the local stack, prints
 * progress while it runs, then a table, and saves the report as JSON under
 * artifacts/ (chaos-<timestamp>.json and chaos-latest.json).
 * Exit codes: 0 nothing lost or doubled; 1 a check failed; 2 bad options or the
 * harness could not set up; 130 interrupted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../local/env';
import { runChaos, type ChaosUi } from '../shared/chaos/harness';
import { CHAOS_USAGE, ChaosUsageError, parseChaosArgs, type ChaosOptions } from '../shared/chaos/options';
import { PlanError } from '../shared/chaos/plan';
import { formatReport, headline } from '../shared/chaos/report';
import { resumeAll } from '../shared/chaos/faults';
import { ResourceError } from '../shared/chaos/resources';

function terminalUi(stream: NodeJS.WriteStream): ChaosUi & { done(): void } {
  const tty = stream.isTTY === true;
  let drawn = false;
  let lastLine = 0;
  const started = Date.now();
  const stamp = () => `[chaos ${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s]`;
  return {
    status(line) {
      if (tty) {
        stream.write(`\r\x1b[2K${stamp()} ${line.slice(0, Math.max(20, (stream.columns ?? 120) - 14))}`);
        drawn = true;
      } else if (Date.now() - lastLine >= 10_000) {
        lastLine = Date.now();
        stream.write(`${stamp()} ${line}\n`);
      }
    },
    event(line) {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
      stream.write(`${stamp()} ${line}\n`);
    },
    done() {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

export async function main(argv: string[]): Promise<number> {
  let opts: ChaosOptions;
  try {
    opts = parseChaosArgs(argv);
  } catch (err) {
    if (err instanceof ChaosUsageError) {
      process.stderr.write(`chaos: ${err.message}\nRun "npm run chaos -- --help" for the options.\n`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(CHAOS_USAGE);
    return 0;
  }

  const ui = terminalUi(process.stderr);
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) {
      resumeAll();
      process.exit(130);
    }
    ui.event('interrupted: resuming stopped services, stopping workers, cleaning up (Ctrl-C again to leave now)');
    resumeAll();
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Whatever happens, a service this process froze is thawed before it goes.
  process.on('exit', () => resumeAll());

  try {
    const report = await runChaos(opts, ui, controller.signal);
    ui.done();
    process.stdout.write(`\n${formatReport(report)}\n`);
    const json = JSON.stringify({ ...report, headline: headline(report) }, null, 2);
    const stamp = report.startedAt.replace(/[:.]/g, '-');
    const file = join(ROOT, opts.outDir, `chaos-${stamp}.json`);
    writeFileSync(file, json);
    writeFileSync(join(ROOT, opts.outDir, 'chaos-latest.json'), json);
    process.stdout.write(`\n  report: ${file}\n  worker log: ${report.logFile}\n`);
    return report.ok ? 0 : 1;
  } catch (err) {
    ui.done();
    if (controller.signal.aborted) {
      process.stderr.write('chaos: interrupted\n');
      return 130;
    }
    if (err instanceof PlanError || err instanceof ChaosUsageError) {
      process.stderr.write(`chaos: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ResourceError) {
      process.stderr.write(`chaos: ${err.message}\nIs the local stack up? (npm run stack:up)\n`);
      return 2;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

process.exitCode = await main(process.argv.slice(2));
