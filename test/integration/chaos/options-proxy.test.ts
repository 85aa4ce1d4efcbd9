/**
 * The harness's command line, and the TCP relay it cuts to take Redis or the AWS
 * endpoint away from one run (real sockets on localhost).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChaosUsageError, parseChaosArgs } from '../../../shared/chaos/options';
import { startTcpProxy, type TcpProxy } from '../../../shared/chaos/proxy';
import { runStartedAt } from '../../../shared/chaos/resources';

describe('parseChaosArgs', () => {
  it('defaults to the CI-sized run: 20 kills, every outage, 4000 records over 4 symbols', () => {
    const o = parseChaosArgs([]);
    expect(o).toMatchObject({ kills: 20, seed: 1, records: 4000, symbols: 4, timeframe: '1m', windowMs: 189_000, keep: false });
    expect(o.outages).toEqual(['redis-stop', 'redis-down', 'redis-flush', 'kafka-restart', 'sns-stop', 'sns-down']);
  });

  it('grows the input with the kills: 200 records a kill for the long run', () => {
    expect(parseChaosArgs(['--kills', '100'])).toMatchObject({ kills: 100, records: 20_000, windowMs: 250_000 });
  });

  it('takes outage lists and lengths', () => {
    const o = parseChaosArgs(['--faults', 'sns-down,redis-flush', '--durations', 'sns-down=60']);
    expect(o.outages).toEqual(['sns-down', 'redis-flush']);
    expect(o.durations).toEqual({ 'sns-down': 60_000 });
    expect(parseChaosArgs(['--faults', 'none']).outages).toEqual([]);
  });

  it.each([
    [['--kills=-1'], /--kills must be an integer from 0/],
    [['--kills', 'many'], /--kills must be an integer/],
    [['--faults', 'redis-stop,disk-full'], /--faults takes a comma-separated list/],
    [['--durations', 'redis-flush=3'], /--durations takes KIND=SECONDS/],
    [['--redis-dbs', '0,3'], /--redis-dbs takes two different database numbers from 1 to 15/],
    [['--redis-dbs', '4,4'], /two different/],
    [['--records', '50', '--symbols', '4'], /at least 30 per symbol \(120 for 4 symbols\)/],
    [['--records', '40000', '--symbols', '2'], /spans 13\.9 days/],
    [['--timeframe', 'fortnight'], /--timeframe/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('rejects %j with a message naming the problem', (argv, message) => {
    expect(() => parseChaosArgs(argv)).toThrow(ChaosUsageError);
    expect(() => parseChaosArgs(argv)).toThrow(message);
  });
});

describe('startTcpProxy (real sockets)', () => {
  let echo: Server;
  let echoPort = 0;
  let proxy: TcpProxy;

  beforeAll(async () => {
    // The relay resets both ends when it goes down; the echo side just sees its peer vanish.
    echo = createServer((s) => s.on('error', () => undefined).pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    echoPort = (echo.address() as { port: number }).port;
    proxy = await startTcpProxy({ host: '127.0.0.1', port: echoPort });
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((r) => echo.close(() => r()));
  });

  const open = () => new Promise<Socket>((resolve, reject) => {
    const s = connect(proxy.port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const roundTrip = (s: Socket, text: string) => new Promise<string>((resolve) => {
    s.once('data', (b) => resolve(b.toString()));
    s.write(text);
  });

  it('relays bytes both ways', async () => {
    const s = await open();
    expect(await roundTrip(s, 'ping')).toBe('ping');
    s.destroy();
  });

  it('while down, resets open connections and refuses new ones; afterwards relays again', async () => {
    const s = await open();
    expect(await roundTrip(s, 'a')).toBe('a');
    const closed = new Promise<string>((resolve) => {
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      s.once('close', () => resolve('closed'));
    });
    await proxy.goDown();
    expect(['ECONNRESET', 'closed']).toContain(await closed);
    await expect(open()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.up();
    const again = await open();
    expect(await roundTrip(again, 'back')).toBe('back');
    again.destroy();
  });
});

describe('runStartedAt', () => {
  it('reads the start time back from a run id (base-36 milliseconds, then 4 hex digits)', () => {
    const t = Date.UTC(2026, 10, 25, 19, 51, 0);
    expect(runStartedAt(`${t.toString(36)}beef`)).toBe(t);
    expect(runStartedAt('not-a-run')).toBeUndefined();
  });
});
