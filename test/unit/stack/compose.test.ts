/**
 * The Docker stack (docker-compose.localstack.yml) cannot run on the project's
 * machines, so this checks the file itself: it must publish the same endpoints
 * as the stack without Docker (scripts/stack.sh), whose defaults live in
 * scripts/stack/ports.env, and create the topics of shared/config.ts.
 */
import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';
import { TOPICS } from '../../../shared/config';

const root = join(import.meta.dirname, '..', '..', '..');
const composeText = readFileSync(join(root, 'docker-compose.localstack.yml'), 'utf8');
const portsEnvText = readFileSync(join(root, 'scripts', 'stack', 'ports.env'), 'utf8');
const topicsText = readFileSync(join(root, 'scripts', 'stack', 'topics.txt'), 'utf8');

type Env = Record<string, string | undefined>;

function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`ports.env line ${i + 1}: expected KEY=VALUE, got "${raw}"`);
    out[m[1]!] = m[2]!;
  });
  return out;
}

/** Compose's interpolation, for the forms the file uses: $$, ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e}. */
function interpolate(text: string, env: Env): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (whole, name?: string, colon?: string, op?: string, arg?: string) => {
    if (whole === '$$') return '$';
    const value = env[name!];
    const missing = value === undefined || (colon === ':' && value === '');
    if (op === '-') return missing ? arg! : value!;
    if (op === '?') {
      if (missing) throw new Error(`required variable ${name} is missing: ${arg}`);
      return value!;
    }
    return value ?? '';
  });
}

interface Service {
  image?: string;
  command?: string[] | string;
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  network_mode?: string;
  depends_on?: Record<string, { condition: string }>;
}
interface ComposeFile {
  services: Record<string, Service>;
}

function loadCompose(env: Env): ComposeFile {
  return parse(interpolate(composeText, env)) as ComposeFile;
}

function service(file: ComposeFile, name: string): Service {
  const s = file.services[name];
  if (!s) throw new Error(`compose file has no service "${name}"`);
  return s;
}

/** "127.0.0.1:9092:9092" or "9092:9092" → { host: 9092, container: 9092 } */
function publishedPorts(s: Service): Array<{ host: number; container: number }> {
  return (s.ports ?? []).map((p) => {
    const parts = String(p).split(':');
    return { host: Number(parts.at(-2)), container: Number(parts.at(-1)) };
  });
}

function flagValue(command: string[], flag: string): string | undefined {
  const i = command.indexOf(flag);
  return i >= 0 ? command[i + 1] : undefined;
}

const defaults = parseEnvFile(portsEnvText);
const withToken: Env = { LOCALSTACK_AUTH_TOKEN: 'test-token' };

describe('scripts/stack/ports.env', () => {
  it('holds the endpoints the project documents: Kafka 9092, Redis 6379, AWS 4566', () => {
    // Fixed by issue 2: KAFKA_BROKERS=localhost:9092, REDIS_URL=redis://localhost:6379, AWS_ENDPOINT_URL=http://localhost:4566.
    expect(defaults).toMatchObject({ KAFKA_PORT: '9092', REDIS_PORT: '6379', MOTO_PORT: '4566' });
  });
});

describe('docker-compose.localstack.yml', () => {
  const compose = loadCompose(withToken);

  it('runs Redpanda, Redis and LocalStack from pinned images', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['localstack', 'redis', 'redpanda', 'redpanda-init']);
    expect(service(compose, 'redpanda').image).toMatch(/^docker\.redpanda\.com\/redpandadata\/redpanda:v\d+\.\d+\.\d+$/);
    expect(service(compose, 'redpanda-init').image).toBe(service(compose, 'redpanda').image);
    expect(service(compose, 'redis').image).toMatch(/^redis:\d/);
    expect(service(compose, 'localstack').image).toMatch(/^localstack\/localstack:\d/);
  });

  it('publishes the host ports of the stack without Docker', () => {
    expect(publishedPorts(service(compose, 'redpanda')).map((p) => p.host)).toEqual([Number(defaults.KAFKA_PORT)]);
    expect(publishedPorts(service(compose, 'redis'))).toEqual([{ host: Number(defaults.REDIS_PORT), container: 6379 }]);
    expect(publishedPorts(service(compose, 'localstack'))).toEqual([{ host: Number(defaults.MOTO_PORT), container: 4566 }]);
  });

  it('starts Redpanda in dev-container mode, listening and advertising on the published port', () => {
    const redpanda = service(compose, 'redpanda');
    const command = redpanda.command as string[];
    expect(command.slice(0, 2)).toEqual(['redpanda', 'start']);
    expect(flagValue(command, '--mode')).toBe('dev-container');
    expect(flagValue(command, '--smp')).toBe('1');
    expect(flagValue(command, '--memory')).toBe('1G');
    const [published] = publishedPorts(redpanda);
    expect(flagValue(command, '--kafka-addr')).toBe(`PLAINTEXT://0.0.0.0:${published!.container}`);
    // Clients get this address back in metadata, so it must be the one they dialled.
    expect(flagValue(command, '--advertise-kafka-addr')).toBe(`PLAINTEXT://localhost:${published!.host}`);
  });

  it('moves every endpoint together when the port variables are overridden', () => {
    const moved = loadCompose({ ...withToken, KAFKA_PORT: '19092', REDIS_PORT: '16379', MOTO_PORT: '14566' });
    const command = service(moved, 'redpanda').command as string[];
    expect(publishedPorts(service(moved, 'redpanda'))).toEqual([{ host: 19092, container: 19092 }]);
    expect(flagValue(command, '--advertise-kafka-addr')).toBe('PLAINTEXT://localhost:19092');
    expect(publishedPorts(service(moved, 'redis'))[0]!.host).toBe(16379);
    expect(publishedPorts(service(moved, 'localstack'))[0]!.host).toBe(14566);
  });

  it('gives LocalStack only SNS and SQS, and refuses to start it without an auth token', () => {
    const env = service(compose, 'localstack').environment ?? {};
    expect(env.SERVICES!.split(',').sort()).toEqual(['sns', 'sqs']);
    expect(env.LOCALSTACK_AUTH_TOKEN).toBe('test-token');
    expect(() => loadCompose({})).toThrow(/LOCALSTACK_AUTH_TOKEN/);
  });

  it('creates the topics of scripts/stack/topics.txt inside the Redpanda network, after Redpanda is healthy', () => {
    const init = service(compose, 'redpanda-init');
    expect(init.network_mode).toBe('service:redpanda');
    expect(init.depends_on?.redpanda?.condition).toBe('service_healthy');
    const mount = (init.volumes ?? []).find((v) => v.startsWith('./scripts/stack/topics.txt:'));
    expect(mount).toBeDefined();
    const inContainer = mount!.split(':')[1]!;
    const script = Array.isArray(init.command) ? init.command.join('\n') : String(init.command);
    expect(script).toContain(`< ${inContainer}`);
    expect(script).toContain('rpk topic create');
    expect(script).toContain('auto_create_topics_enabled false');
    // Compose turned $$ into $, so the script sees its own shell variables.
    expect(script).toContain('"$name"');
    // A long-running service waits for the init, so 'up --wait' does not fail on its exit.
    const adopters = Object.values(compose.services).filter((s) => s.depends_on?.['redpanda-init']?.condition === 'service_completed_successfully');
    expect(adopters.length).toBeGreaterThan(0);
  });
});

describe('scripts/stack/topics.txt', () => {
  const lines = topicsText
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(/\s+/));

  it('lists exactly the topics of shared/config.ts', () => {
    expect(lines.map(([name]) => name).sort()).toEqual(Object.values(TOPICS).sort());
  });

  it('makes the state changelog, and only it, a compacted topic', () => {
    const compacted = lines.filter((l) => l.includes('cleanup.policy=compact')).map(([name]) => name);
    expect(compacted).toEqual([TOPICS.stateChangelog]);
  });
});

describe('scripts/stack.sh env', () => {
  // Runs only the settings part of the script: no service is started or probed.
  function stackEnv(overrides: Env): Record<string, string> {
    const env: Env = { ...process.env, LOCAL_DIR: join(root, '.local'), ...overrides };
    for (const k of ['KAFKA_PORT', 'KAFKA_CONTROLLER_PORT', 'REDIS_PORT', 'MOTO_PORT']) if (!(k in overrides)) delete env[k];
    const out = execFileSync('bash', [join(root, 'scripts', 'stack.sh'), 'env'], { env: env as NodeJS.ProcessEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return Object.fromEntries(out.trim().split('\n').map((l) => l.replace(/^export /, '').split('=', 2) as [string, string]));
  }

  it('points clients at the ports the compose stack publishes', () => {
    const env = stackEnv({});
    expect(env.KAFKA_BROKERS).toBe(`localhost:${publishedPorts(service(compose(), 'redpanda'))[0]!.host}`);
    expect(env.REDIS_URL).toBe(`redis://localhost:${publishedPorts(service(compose(), 'redis'))[0]!.host}`);
    expect(env.AWS_ENDPOINT_URL).toBe(`http://localhost:${publishedPorts(service(compose(), 'localstack'))[0]!.host}`);
  });

  it('lets an environment variable override the file', () => {
    expect(stackEnv({ KAFKA_PORT: '19092' }).KAFKA_BROKERS).toBe('localhost:19092');
  });

  it('rejects a port that is not a number, naming the variable', () => {
    expect(() => stackEnv({ REDIS_PORT: 'six' })).toThrow(/REDIS_PORT must be a port number/);
  });

  function compose(): ComposeFile {
    return loadCompose(withToken);
  }
});
