/**
 * How the mock keeps or closes connections. By default it keeps them alive (30 s idle). Set up
 * like llama.cpp's llama-server (checked: de3ff81), it announces `Keep-Alive: timeout=5, max=100`
 * yet closes right after every streamed answer without saying so (`closeAfterStream`), closes
 * after errors with `Connection: close` (`closeOnError`), and ends a connection at its 100th
 * response (`keepAliveMaxRequests`). Node's own `maxRequestsPerSocket` is not used: past the limit
 * it answers 503 on the open socket instead of closing it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { MockServerConfig } from '../shared/mock-schema';
import { isStream } from './event-stream';
import type { MockStats } from './mock-stats';

export class ConnectionPolicy {
  private readonly responsesBySocket = new WeakMap<Socket, number>();

  constructor(
    private readonly config: MockServerConfig,
    private readonly stats: MockStats,
  ) {}

  /** Sets a response's keep-alive headers before its route runs, and closes its connection after it as configured. */
  admit(request: IncomingMessage, response: ServerResponse): void {
    const { socket } = request;
    const max = this.config.keepAliveMaxRequests;
    const count = (this.responsesBySocket.get(socket) ?? 0) + 1;
    this.responsesBySocket.set(socket, count);
    if (max > 0) {
      // llama.cpp always says max=100: it does not count down.
      response.setHeader('keep-alive', `timeout=${Math.floor(this.config.keepAliveTimeoutMs / 1000)}, max=${max}`);
      if (count >= max) response.setHeader('connection', 'close');
    }
    response.once('finish', () => {
      // Node closes the connection itself after a response that says `Connection: close`.
      if (response.getHeader('connection') === 'close') this.stats.connectionsClosedByServer++;
      else if (this.config.closeAfterStream && isStream(response)) {
        this.stats.connectionsClosedByServer++;
        this.closeSoon(socket);
      }
    });
  }

  /**
   * Closes `socket` `closeAfterStreamDelayMs` after the last byte. Reading stops at once, so a
   * request written meanwhile stays unread and fails on the close (FIN, then a reset for the unread
   * bytes): the server never saw it, as with llama.cpp, where a pooled client that reuses the
   * socket loses that race ("other side closed").
   */
  private closeSoon(socket: Socket): void {
    if (this.config.closeAfterStreamDelayMs === 0) {
      socket.destroySoon();
      return;
    }
    socket.pause();
    setTimeout(() => socket.destroySoon(), this.config.closeAfterStreamDelayMs).unref();
  }

  /** Called before an error answer is written: with `closeOnError` it closes the connection. */
  beforeError(response: ServerResponse): void {
    if (this.config.closeOnError) response.setHeader('connection', 'close');
  }
}
