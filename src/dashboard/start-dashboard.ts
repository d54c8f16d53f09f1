/**
 * `grym-perf dashboard`: bull-board over grym-perf's queues and the runs' reports, on express.
 * Read-only, bound to loopback and protected by credentials from the environment by default.
 * Every answer carries security headers; without credentials only loopback Host names are
 * answered (DNS rebinding); errors are plain pages without a stack.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import type { RunQueues } from '../coordinator/distributed/watch-run';
import { closeAll, once } from '../shared/close-all';
import { DEFAULT_DASHBOARD_PORT, DEFAULT_HOST } from '../shared/defaults';
import { PortInUseError } from '../shared/errors';
import { queueLayout, redactRedisText } from '../shared/queue-layout';
import { connectRedis, reportRedisErrors } from '../shared/redis-connection';
import { assertSafeBinding, basicAuth, type DashboardCredentials } from './dashboard-auth';
import { errorPages, notFoundPage } from './error-pages';
import { loopbackHostOnly } from './loopback-host-only';
import { runPages } from './run-pages';
import { boardSecurityHeaders, pageSecurityHeaders } from './security-headers';

export interface DashboardOptions {
  redisUrl: string;
  prefix?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  readOnly?: boolean;
  credentials?: DashboardCredentials;
  /** Where Redis state changes and unexpected errors are told, one line each (default: stderr). */
  log?: (line: string) => void;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

const BOARD_PATH = '/board';

function dashboardApp(options: DashboardOptions, queues: RunQueues, connection: Redis, log: (line: string) => void): Express {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: [queues.runs, queues.phases, queues.shards].map(
      (queue) => new BullMQAdapter(queue, { readOnlyMode: options.readOnly ?? true }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'grym-perf' } },
  });
  // bull-board's own API error handler adds the stack when NODE_ENV=development: ours never does.
  serverAdapter.setErrorHandler((error) => ({
    status: (error as { statusCode?: number }).statusCode === 404 ? 404 : 500,
    body: { error: { key: 'ERRORS.INTERNAL_SERVER_ERROR' }, message: redactRedisText(error.message, options.redisUrl) },
  }));

  const app = express();
  app.disable('x-powered-by');
  // Headers first, so that 401, 403 and error answers carry them too.
  const [pageHeaders, boardHeaders] = [pageSecurityHeaders(), boardSecurityHeaders()];
  app.use((request, response, next) => (request.path.startsWith(BOARD_PATH) ? boardHeaders : pageHeaders)(request, response, next));
  if (options.credentials) app.use(basicAuth(options.credentials));
  else app.use(loopbackHostOnly());
  app.get('/', (_request, response) => response.redirect('/runs'));
  app.use('/runs', runPages({ queues, redact: (text) => redactRedisText(text, options.redisUrl) }));
  app.use(BOARD_PATH, serverAdapter.getRouter());
  app.use(notFoundPage());
  app.use(errorPages({ redisReady: () => connection.status === 'ready', log }));
  return app;
}

/** Listens, or throws `PortInUseError` (one line, exit 3) when the port is taken. */
function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => {
      if (!error) return resolve(server);
      reject((error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new PortInUseError(host, port) : error);
    });
  });
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? DEFAULT_HOST;
  assertSafeBinding(host, options.credentials);
  const layout = queueLayout(options.prefix);
  const out = options.log ?? ((line: string) => console.error(line));
  const log = (line: string) => out(`dashboard: ${redactRedisText(line, options.redisUrl)}`);
  // Fails commands fast while Redis is away (pages answer 503, never hang); one line per state change.
  const connection = connectRedis(options.redisUrl, 'grym-dashboard', { log, failFast: true });
  const [runs, phases, shards] = [layout.runs, layout.phases, layout.shards].map((name) => {
    const queue = new Queue(name, { connection, prefix: layout.prefix });
    reportRedisErrors(queue, options.redisUrl, log, `queue ${name}`);
    return queue;
  }) as [Queue, Queue, Queue];
  const closeRedis = () => closeAll([...[runs, phases, shards].map((queue) => () => queue.close()), () => connection.quit()]);

  let server: Server;
  try {
    server = await listen(dashboardApp(options, { runs, phases, shards }, connection, log), options.port ?? DEFAULT_DASHBOARD_PORT, host);
  } catch (error) {
    // Nothing may keep the process alive after a failed start: the CLI must exit.
    await closeRedis();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: once(() =>
      closeAll([() => server.closeAllConnections(), () => new Promise<void>((resolve) => server.close(() => resolve())), closeRedis]),
    ),
  };
}
