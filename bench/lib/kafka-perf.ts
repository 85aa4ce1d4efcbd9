/**
 * Kafka's own load tools (org.apache.kafka.tools.ProducerPerformance and
 * ConsumerPerformance from kafka-tools), run as child JVMs against the same broker
 * so the pipeline's throughput can be stated as a fraction of what the broker and
 * a tuned Java client do on this machine.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './report';

export const KAFKA_LIBS = join(REPO_ROOT, '.local', 'kafka', 'libs');
const LOG4J = join(REPO_ROOT, 'scripts', 'stack', 'tools-log4j2.properties');

export class KafkaToolsMissingError extends Error {}

function javaArgs(mainClass: string, args: string[]): string[] {
  return ['-Xmx256m', '-XX:+UseSerialGC', `-Dlog4j2.configurationFile=${LOG4J}`, '-cp', `${KAFKA_LIBS}/*`, mainClass, ...args];
}

export function kafkaToolsAvailable(): boolean {
  return existsSync(KAFKA_LIBS) && readdirSync(KAFKA_LIBS).some((f) => /^kafka-tools-\d.*\.jar$/.test(f));
}

async function runJava(mainClass: string, args: string[], onLine: (line: string) => void, timeoutMs: number): Promise<string> {
  if (!kafkaToolsAvailable()) throw new KafkaToolsMissingError(`no kafka-tools jar in ${KAFKA_LIBS}; run scripts/stack.sh up to install the Kafka jars`);
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  return new Promise((resolve, reject) => {
    const child = spawn(java, javaArgs(mainClass, args), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) onLine(l);
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${mainClass}: cannot start ${java}: ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${mainClass} exited with ${code ?? signal}${signal === 'SIGKILL' ? ` (killed after ${timeoutMs} ms)` : ''}:\n${(err || out).trim().split('\n').slice(-8).join('\n')}`));
    });
  });
}

export interface ProducerPerfResult {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  p50LatencyMs: number;
  p99LatencyMs: number;
  settings: string[];
}

/** The summary line: "200000 records sent, 46849.37 records/sec (5.36 MB/sec), 1019.51 ms avg latency, 1428.00 ms max latency, 1107 ms 50th, 1344 ms 95th, 1373 ms 99th, 1424 ms 99.9th." */
export function parseProducerPerfSummary(text: string): Omit<ProducerPerfResult, 'settings'> {
  const line = text.split('\n').reverse().find((l) => /records sent/.test(l) && /50th/.test(l));
  const m = line && /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency.*?(\d+) ms 50th.*?(\d+) ms 99th/.exec(line.trim());
  if (!m) throw new Error(`ProducerPerformance: no summary line in its output:\n${text.trim().split('\n').slice(-5).join('\n')}`);
  return { records: Number(m[1]), recordsPerSec: Number(m[2]), mbPerSec: Number(m[3]), avgLatencyMs: Number(m[4]), p50LatencyMs: Number(m[5]), p99LatencyMs: Number(m[6]) };
}

export async function producerPerformance(opts: {
  bootstrap: string;
  topic: string;
  records: number;
  /** Newline-separated payloads; the tool sends randomly chosen lines, so the record sizes are ours. */
  payloadFile: string;
  keyRange: number;
  onLine?: (line: string) => void;
  timeoutMs?: number;
}): Promise<ProducerPerfResult> {
  // The same durability as the pipeline's producers (idempotent, acks=all); batching left at the client's defaults.
  const settings = [`bootstrap.servers=${opts.bootstrap}`, 'acks=all', 'enable.idempotence=true'];
  const out = await runJava(
    'org.apache.kafka.tools.ProducerPerformance',
    ['--topic', opts.topic, '--num-records', String(opts.records), '--throughput', '-1', '--payload-file', opts.payloadFile,
      '--key-distribution', 'random', '--record-key-range', String(opts.keyRange), '--command-property', ...settings],
    opts.onLine ?? (() => {}),
    opts.timeoutMs ?? 180_000,
  );
  return { ...parseProducerPerfSummary(out), settings };
}

export interface ConsumerPerfResult {
  records: number;
  /** Over the whole run, group join included. */
  recordsPerSec: number;
  mbPerSec: number;
  rebalanceMs: number;
  fetchMs: number;
  /** Over the fetch time only: the steady consumption rate. */
  fetchRecordsPerSec: number;
}

/** The header and value lines: "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec". */
export function parseConsumerPerfSummary(text: string): ConsumerPerfResult {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const h = lines.findIndex((l) => l.startsWith('start.time'));
  const values = h >= 0 ? lines[h + 1] : undefined;
  if (h < 0 || !values) throw new Error(`ConsumerPerformance: no summary in its output:\n${lines.slice(-5).join('\n')}`);
  const names = lines[h]!.split(/,\s*/);
  const cells = values.split(/,\s*/);
  const get = (name: string): number => {
    const v = Number(cells[names.indexOf(name)]);
    if (!Number.isFinite(v)) throw new Error(`ConsumerPerformance: no numeric ${name} in "${values}"`);
    return v;
  };
  return {
    records: get('data.consumed.in.nMsg'), recordsPerSec: get('nMsg.sec'), mbPerSec: get('MB.sec'),
    rebalanceMs: get('rebalance.time.ms'), fetchMs: get('fetch.time.ms'), fetchRecordsPerSec: get('fetch.nMsg.sec'),
  };
}

export async function consumerPerformance(opts: { bootstrap: string; topic: string; records: number; group: string; onLine?: (line: string) => void; timeoutMs?: number }): Promise<ConsumerPerfResult> {
  const out = await runJava(
    'org.apache.kafka.tools.ConsumerPerformance',
    ['--bootstrap-server', opts.bootstrap, '--topic', opts.topic, '--num-records', String(opts.records), '--group', opts.group, '--timeout', '60000'],
    opts.onLine ?? (() => {}),
    opts.timeoutMs ?? 180_000,
  );
  return parseConsumerPerfSummary(out);
}
