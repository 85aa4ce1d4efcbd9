/**
 * Where a process spent its CPU, from a V8 .cpuprofile (node --cpu-prof): self time
 * per function and per code origin (a package in node_modules, a project file,
 * Node's internals, GC), so a benchmark can name its bottleneck instead of guessing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './report';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  /** Share of the profile's non-idle time. */
  share: number;
}

export interface ProfileSummary {
  file: string;
  busyMs: number;
  byOrigin: SelfTime[];
  byFunction: SelfTime[];
}

/** The code a frame belongs to: an npm package, a project file, Node's own JS, or a V8 pseudo-frame such as (garbage collector). */
export function originOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  return path.startsWith('/') ? relative(REPO_ROOT, path) : path;
}

export function summarizeCpuProfile(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  // Self time per node from the sample stream: each sample's delta belongs to the node it hit.
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, deltas[i + 1] ?? 0));
  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0 || node.callFrame.functionName === '(idle)') continue;
    busyUs += us;
    const origin = originOf(node.callFrame.url, node.callFrame.functionName);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${origin}${node.callFrame.url ? `:${node.callFrame.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const rank = (m: Map<string, number>): SelfTime[] =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000, share: busyUs ? us / busyUs : 0 }));
  return { file, busyMs: busyUs / 1000, byOrigin: rank(byOrigin), byFunction: rank(byFunction) };
}

/** Profiles in `dir` written by process `pid` (node names them CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile). */
export function profilesOf(dir: string, pid: number): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && f.split('.')[3] === String(pid)).map((f) => join(dir, f));
}
