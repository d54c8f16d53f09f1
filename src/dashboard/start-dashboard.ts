/**
 * `grym-perf dashboard`: bull-board over grym-perf's queues and the runs' reports, on express.
 * Read-only, bound to loopback and protected by credentials from the environment by default.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import express from 'express';
import { queueLayout } from '../shared/queue-layout';
import { connectRedis } from '../shared/redis-connection';
import { assertSafeBinding, basicAuth, type DashboardCredentials } from './dashboard-auth';
import { runPages } from './run-pages';

export interface DashboardOptions {
  redisUrl: string;
  prefix?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  readOnly?: boolean;
  credentials?: DashboardCredentials;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

export const BOARD_PATH = '/board';

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  assertSafeBinding(host, options.credentials);
  const layout = queueLayout(options.prefix);
  const connection = connectRedis(options.redisUrl, 'grym-dashboard');
  const queues = [layout.runs, layout.phases, layout.shards].map((name) => new Queue(name, { connection, prefix: layout.prefix }));

  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: options.readOnly ?? true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'grym-perf' } },
  });

  const app = express();
  app.disable('x-powered-by');
  if (options.credentials) app.use(basicAuth(options.credentials));
  app.get('/', (_request, response) => response.redirect('/runs'));
  app.use('/runs', runPages(queues[0] as Queue));
  app.use(BOARD_PATH, serverAdapter.getRouter());

  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(options.port ?? 3000, host, (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close() {
      closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        for (const queue of queues) await queue.close().catch(() => undefined);
        await connection.quit().catch(() => undefined);
      })();
      return closing;
    },
  };
}
