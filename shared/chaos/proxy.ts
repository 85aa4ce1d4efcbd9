/**
 * A TCP relay between a run's workers and a shared service (Redis, the AWS
 * endpoint), so the harness can take the service "down" for that run alone: while
 * down, open connections are reset and new ones refused, as when a cache node or an
 * endpoint goes away — without stopping the shared server, which other runs (and a
 * developer's stack) still use. SIGSTOP models the other kind of outage, a server
 * that hangs.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  readonly down: boolean;
  /** Resets every open connection and refuses new ones until up(). */
  goDown(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let down = false;
  let server: Server;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        sockets.add(client);
        sockets.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as { port: number }).port;
        resolve();
      });
    });

  const stopListening = () => new Promise<void>((resolve) => server.close(() => resolve()));

  await listen();
  return {
    get port() {
      return port;
    },
    get down() {
      return down;
    },
    async goDown() {
      if (down) return;
      down = true;
      const closed = stopListening();
      for (const s of sockets) {
        try {
          s.resetAndDestroy();
        } catch {
          s.destroy(); // not connected yet: nothing to reset
        }
      }
      sockets.clear();
      await closed;
    },
    async up() {
      if (!down) return;
      down = false;
      await listen();
    },
    async close() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (!down) await stopListening();
      down = true;
    },
  };
}
