/**
 * The connections of an HTTP target: an undici pool with keep-alive, and a fresh connection for
 * the one retry a request gets when the server closed the pooled connection it was written on
 * before answering (llama.cpp's llama-server announces keep-alive, then closes after each streamed
 * answer; a pool that reuses the socket at once loses that race). Counts the connections opened
 * and the requests retried: connection churn, reported apart from errors.
 */
import type { Dispatcher } from 'undici';

// The pool and the client alone: undici's index loads fetch, WebSocket, caches and mocks too, about
// 60-100 ms more of every worker thread's start (undici has no exports map; these paths are its own).
const Pool = require('undici/lib/dispatcher/pool') as typeof import('undici').Pool;
const Client = require('undici/lib/dispatcher/client') as typeof import('undici').Client;
import type { ConnectionCounts } from '../../shared/shard-result';

/**
 * undici's own header and body timeouts are off: every request has one timer of its own over the
 * whole exchange (`target.requestTimeout`), and undici's would refresh a timer on every piece of
 * every stream for nothing (or cut a request the plan allows more time at their 300 s default).
 */
const NO_CLIENT_TIMEOUTS = { headersTimeout: 0, bodyTimeout: 0 } as const;

export class HttpConnections {
  readonly pool: InstanceType<typeof Pool>;
  private readonly counts: ConnectionCounts = { opened: 0, retried: 0 };

  constructor(
    private readonly origin: string,
    connections: number,
    private readonly maxResponseBytes: number,
  ) {
    // Keep-alive, and the response size cap enforced while reading.
    this.pool = new Pool(origin, {
      connections: Math.max(1, connections),
      keepAliveTimeout: 30_000,
      pipelining: 1,
      maxResponseSize: maxResponseBytes,
      ...NO_CLIENT_TIMEOUTS,
    });
    this.pool.on('connect', () => this.counts.opened++);
  }

  /**
   * Runs `send` once on a new connection of its own, closed after: the retry of a request that the
   * server never saw.
   */
  async retryOnFreshConnection<T>(send: (dispatcher: Dispatcher) => Promise<T>): Promise<T> {
    this.counts.retried++;
    const client = new Client(this.origin, { pipelining: 1, maxResponseSize: this.maxResponseBytes, ...NO_CLIENT_TIMEOUTS });
    client.on('connect', () => this.counts.opened++);
    try {
      return await send(client);
    } finally {
      await client.destroy();
    }
  }

  stats(): ConnectionCounts {
    return { ...this.counts };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
