/**
 * The HTTP endpoint Prometheus scrapes: GET /metrics in the text exposition format, nothing else.
 * Its own listener (`--metrics-port`), bound to loopback unless `--metrics-host` says otherwise,
 * so that the same scrape config fits `run`, `worker` and `dashboard`, and the dashboard's
 * credentials stay on its pages.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { once } from '../close-all';
import { PortInUseError } from '../errors';

export interface MetricsServerOptions {
  registry: Registry;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Runs before each scrape (the dashboard reads its runs from Redis then). */
  beforeScrape?: () => Promise<void>;
  /** Where a failed scrape is told, one line (default: stderr). */
  log?: (line: string) => void;
}

export interface MetricsServer {
  /** http://host:port/metrics */
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const log = options.log ?? ((line: string) => console.error(line));
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
      return;
    }
    void (async () => {
      try {
        await options.beforeScrape?.();
        const body = await options.registry.metrics();
        response.writeHead(200, { 'content-type': options.registry.contentType });
        response.end(request.method === 'HEAD' ? undefined : body);
      } catch (error) {
        log(`metrics: scrape failed: ${error instanceof Error ? error.message : String(error)}`);
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('scrape failed\n');
      }
    })();
  });
  // A scraper keeps connections alive: they must not hold the process open at exit.
  server.keepAliveTimeout = 5000;
  await listen(server, options.port, options.host);
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: once(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  };
}

/** Listens, or throws `PortInUseError` (one line, exit 3) when the port is taken. */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(host, port) : error));
    server.listen(port, host, () => resolve());
  });
}
