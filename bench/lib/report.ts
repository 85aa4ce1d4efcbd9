/**
 * Output for bench scripts: plain-text tables, summary statistics and the JSON
 * artifact under artifacts/ (git-ignored). Kept free of any benchmark's specifics
 * so every bench/*.ts can print and save the same way.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const ARTIFACTS_DIR = join(REPO_ROOT, 'artifacts');

export interface Column<Row> {
  title: string;
  value: (row: Row) => string | number | undefined | null;
  /** Numbers default to right alignment, text to left. */
  align?: 'left' | 'right';
  /** Digits for numbers; default 0 (thousands separators either way). */
  digits?: number;
}

export function formatNumber(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatTable<Row>(title: string, columns: Column<Row>[], rows: Row[]): string {
  const cells = rows.map((row) =>
    columns.map((c) => {
      const v = c.value(row);
      if (v === undefined || v === null || Number.isNaN(v)) return { text: '—', right: c.align !== 'left' };
      if (typeof v === 'number') return { text: formatNumber(v, c.digits ?? 0), right: c.align !== 'left' };
      return { text: v, right: c.align === 'right' };
    }),
  );
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => r[i]!.text.length)));
  const line = (parts: string[]) => `  ${parts.join('  ')}`.trimEnd();
  const rightAligned = (c: Column<Row>, i: number): boolean => (c.align ? c.align === 'right' : (cells[0]?.[i]?.right ?? true));
  const header = line(columns.map((c, i) => (rightAligned(c, i) ? c.title.padStart(widths[i]!) : c.title.padEnd(widths[i]!))));
  const rule = line(widths.map((w) => '-'.repeat(w)));
  const body = cells.map((r) => line(r.map((cell, i) => (cell.right ? cell.text.padStart(widths[i]!) : cell.text.padEnd(widths[i]!)))));
  return [title, header, rule, ...body].join('\n');
}

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile: the smallest value with at least p% of the sample at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export interface Distribution {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function distribution(values: readonly number[]): Distribution {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : Number.NaN;
  return { count: s.length, min: s[0] ?? Number.NaN, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] ?? Number.NaN, mean };
}

/** Facts about the machine a result came from, so artifacts from different runs can be compared honestly. */
export function machineInfo(): Record<string, unknown> {
  const cpu = cpus();
  return { node: process.version, cpus: cpu.length, cpuModel: cpu[0]?.model, memoryMB: Math.round(totalmem() / 2 ** 20), loadavg: loadavg().map((x) => Math.round(x * 100) / 100) };
}

/** Writes artifacts/<name> (pretty JSON) and returns its path. */
export function saveArtifact(name: string, data: unknown): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, name);
  writeFileSync(path, `${JSON.stringify(data, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 2)}\n`);
  return path;
}
