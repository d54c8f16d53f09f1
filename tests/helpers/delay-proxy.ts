/**
 * A TCP proxy on loopback that delays every chunk by a fixed time in each direction, keeping the
 * order: a slow network between the CLI and Redis, on one machine, without root (no netem).
 */
import { createConnection, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface DelayProxy {
  /** The port the proxy listens on (127.0.0.1). */
  port: number;
  /** Connections the proxy has accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Forwards `from` to `to`, each chunk `delayMs` later than it arrived, in arrival order. */
function pipeDelayed(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (chunk: Buffer) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  // The end follows the last chunk, so that nothing sent before it is cut off.
  from.on('end', () => setTimeout(() => to.end(), delayMs));
}

/** Starts a proxy to `target` (a port on 127.0.0.1) adding `delayMs` each way. */
export async function startDelayProxy(targetPort: number, delayMs: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => sockets.delete(socket));
      // A reset on one side closes the other, as a real network path would.
      socket.on('error', () => (socket === client ? upstream : client).destroy());
    }
    pipeDelayed(client, upstream, delayMs);
    pipeDelayed(upstream, client, delayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
