/**
 * Builds the dashboard into web/dist: one hashed JS bundle (app code, the engine's
 * indicator functions and lightweight-charts), one hashed CSS file and index.html.
 * Reports raw and gzip sizes and writes them to artifacts/web-bundle.json.
 *
 *   bash scripts/dev.sh run web/build.ts [--watch] [--sourcemap] [--quiet]
 */
import { mkdirSync, readFileSync, renameSync, rmSync, watch, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const WEB_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(WEB_DIR, '..');

export interface BundleFile { file: string; bytes: number; gzipBytes: number }
export interface BuildReport {
  builtAt: string;
  outDir: string;
  files: BundleFile[];
  total: { bytes: number; gzipBytes: number };
  /** Where the JS bytes come from, largest first (minified bytes per input package or folder). */
  jsInputs: { input: string; bytes: number }[];
  buildMs: number;
}

export interface BuildOptions {
  outDir?: string;
  sourcemap?: boolean;
  /** Where to write the size report; null to skip. */
  reportPath?: string | null;
}

function esbuildOptions(outDir: string, sourcemap: boolean): esbuild.BuildOptions {
  return {
    entryPoints: { app: path.join(WEB_DIR, 'src', 'main.ts') },
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    platform: 'browser',
    minify: true,
    sourcemap: sourcemap ? 'linked' : false,
    outdir: path.join(outDir, 'assets'),
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'eof',
    conditions: ['production'],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    absWorkingDir: ROOT,
  };
}

function groupInput(input: string): string {
  const nm = input.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = input.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? input);
  }
  return path.dirname(input);
}

function writeIndex(outDir: string, result: esbuild.BuildResult): void {
  const outputs = Object.entries(result.metafile?.outputs ?? {});
  const js = outputs.find(([file, o]) => file.endsWith('.js') && o.entryPoint);
  const css = outputs.find(([file]) => file.endsWith('.css'));
  if (!js || !css) throw new Error('esbuild produced no JS entry or no CSS file');
  const rel = (file: string): string => `/${path.relative(outDir, path.resolve(ROOT, file)).split(path.sep).join('/')}`;
  const template = readFileSync(path.join(WEB_DIR, 'src', 'index.html'), 'utf8');
  const html = template.replace('%APP_JS%', rel(js[0])).replace('%APP_CSS%', rel(css[0]));
  writeFileSync(path.join(outDir, 'index.html'), html);
}

function report(outDir: string, result: esbuild.BuildResult, buildMs: number): BuildReport {
  const files: BundleFile[] = [];
  const jsInputs = new Map<string, number>();
  for (const [file, out] of Object.entries(result.metafile?.outputs ?? {})) {
    if (file.endsWith('.map')) continue;
    const body = readFileSync(path.resolve(ROOT, file));
    files.push({ file: path.relative(outDir, path.resolve(ROOT, file)), bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length });
    if (file.endsWith('.js')) {
      for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
        const key = groupInput(input);
        jsInputs.set(key, (jsInputs.get(key) ?? 0) + bytesInOutput);
      }
    }
  }
  const html = readFileSync(path.join(outDir, 'index.html'));
  files.push({ file: 'index.html', bytes: html.length, gzipBytes: gzipSync(html, { level: 9 }).length });
  files.sort((a, b) => b.bytes - a.bytes);
  const total = files.reduce((t, f) => ({ bytes: t.bytes + f.bytes, gzipBytes: t.gzipBytes + f.gzipBytes }), { bytes: 0, gzipBytes: 0 });
  return {
    builtAt: new Date().toISOString(),
    outDir: path.relative(ROOT, outDir) || '.',
    files,
    total,
    jsInputs: [...jsInputs.entries()].map(([input, bytes]) => ({ input, bytes })).sort((a, b) => b.bytes - a.bytes),
    buildMs,
  };
}

/** One production build. Replaces the previous dist so stale hashed files do not pile up. */
export async function buildDashboard(opts: BuildOptions = {}): Promise<BuildReport> {
  const outDir = path.resolve(opts.outDir ?? path.join(WEB_DIR, 'dist'));
  const started = performance.now();
  // Built beside dist and swapped in whole, so a server reading dist never sees half a build.
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  let rep: BuildReport;
  try {
    const result = await esbuild.build(esbuildOptions(tmp, opts.sourcemap ?? false));
    writeIndex(tmp, result);
    rep = report(tmp, result, 0);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  rmSync(outDir, { recursive: true, force: true });
  renameSync(tmp, outDir);
  rep = { ...rep, outDir: path.relative(ROOT, outDir) || '.', buildMs: Math.round(performance.now() - started) };
  const reportPath = opts.reportPath === undefined ? path.join(ROOT, 'artifacts', 'web-bundle.json') : opts.reportPath;
  if (reportPath) {
    mkdirSync(path.dirname(reportPath), { recursive: true });
    writeFileSync(reportPath, `${JSON.stringify(rep, null, 2)}\n`);
  }
  return rep;
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

export function formatReport(rep: BuildReport): string {
  const rows = rep.files.map((f) => [f.file, kb(f.bytes), kb(f.gzipBytes)]);
  rows.push(['total', kb(rep.total.bytes), kb(rep.total.gzipBytes)]);
  const w0 = Math.max(4, ...rows.map((r) => r[0]!.length));
  const line = (r: string[]): string => `${r[0]!.padEnd(w0)}  ${r[1]!.padStart(10)}  ${r[2]!.padStart(10)}`;
  const out = [line(['file', 'raw', 'gzip']), line(['-'.repeat(w0), '-'.repeat(10), '-'.repeat(10)]), ...rows.slice(0, -1).map(line), line(rows[rows.length - 1]!)];
  const jsTotal = rep.jsInputs.reduce((t, i) => t + i.bytes, 0) || 1;
  out.push('', 'JS by source (minified):');
  for (const i of rep.jsInputs.slice(0, 6)) out.push(`  ${i.input.padEnd(w0 - 2)}  ${kb(i.bytes).padStart(10)}  ${`${((i.bytes / jsTotal) * 100).toFixed(0)}%`.padStart(10)}`);
  out.push('', `built in ${rep.buildMs} ms into ${rep.outDir}`);
  return out.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const known = new Set(['--watch', '--sourcemap', '--quiet']);
  const bad = argv.filter((a) => !known.has(a));
  if (bad.length) {
    console.error(`Unknown option ${bad.join(' ')}\nusage: web/build.ts [--watch] [--sourcemap] [--quiet]`);
    process.exit(2);
  }
  const sourcemap = argv.includes('--sourcemap');
  const quiet = argv.includes('--quiet');
  const once = async (): Promise<boolean> => {
    try {
      const rep = await buildDashboard({ sourcemap });
      console.log(quiet ? `web: built ${kb(rep.total.bytes)} (${kb(rep.total.gzipBytes)} gzip) in ${rep.buildMs} ms` : formatReport(rep));
      if (!quiet) console.log('size report: artifacts/web-bundle.json');
      return true;
    } catch (err) {
      const errors = (err as { errors?: esbuild.Message[] }).errors;
      if (errors?.length) {
        const text = await esbuild.formatMessages(errors, { kind: 'error', color: process.stderr.isTTY });
        console.error(text.join('\n'));
      } else console.error(`web build failed: ${(err as Error).message}`);
      return false;
    }
  };
  if (!argv.includes('--watch')) {
    process.exit((await once()) ? 0 : 1);
  }
  // Watch mode: rebuild on change to web/src or the engine it bundles; polling is cheap at this size.
  await once();
  let timer: NodeJS.Timeout | undefined;
  const trigger = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void once(), 150);
  };
  for (const dir of [path.join(WEB_DIR, 'src'), path.join(ROOT, 'shared', 'engine')]) {
    try {
      watch(dir, { recursive: true }, trigger);
    } catch {
      console.error(`cannot watch ${dir}`);
    }
  }
  console.log('watching web/src and shared/engine for changes (Ctrl-C to stop)');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
