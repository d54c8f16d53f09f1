/**
 * `--metrics-port`, `--metrics-host` (and, on `run`, `--metrics-linger`): the Prometheus endpoint
 * of `run`, `worker` and `dashboard`, said in one line when it listens.
 */
import { Option } from 'commander';
import type { LocalRunMetrics } from '../coordinator/monitoring/local-run-metrics';
import type { RunEvent } from '../coordinator/run-events';
import { DEFAULT_HOST } from '../shared/defaults';
import type { GrymMetrics } from '../shared/monitoring/grym-metrics';
import type { MetricsServer } from '../shared/monitoring/metrics-server';
import type { RunReport } from '../shared/run-report';
import type { ShardExecutor } from '../shared/shard-task';
import { durationMs, port } from './options';

export interface MetricsFlags {
  metricsPort?: number;
  metricsHost: string;
}

export const metricsPortOption = () =>
  new Option('--metrics-port <port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (0 picks a free port)').argParser(port);

export const metricsHostOption = () =>
  new Option('--metrics-host <host>', 'address the metrics endpoint binds to (it has no credentials: keep it private)').default(
    DEFAULT_HOST,
  );

export const metricsLingerOption = () =>
  new Option('--metrics-linger <duration>', 'with --metrics-port: keep serving the final metrics this long after the run, such as 30s')
    .argParser(durationMs)
    .default(0, 'no');

/** Starts the endpoint when `--metrics-port` was given, and says where; undefined otherwise. */
export async function serveMetrics(
  flags: MetricsFlags,
  metrics: GrymMetrics,
  beforeScrape?: () => Promise<void>,
): Promise<MetricsServer | undefined> {
  if (flags.metricsPort === undefined) return undefined;
  const { startMetricsServer } = await import('../shared/monitoring/metrics-server.js');
  const server = await startMetricsServer({
    registry: metrics.registry,
    host: flags.metricsHost,
    port: flags.metricsPort,
    ...(beforeScrape ? { beforeScrape } : {}),
  });
  console.log(`metrics on ${server.url}`);
  return server;
}

/** What a local run does with its metrics: nothing at all without `--metrics-port`. */
export interface RunMonitoring {
  executor: ShardExecutor;
  onEvent(event: RunEvent): void;
  onReport(report: RunReport): void;
  /** Lingers (after a report, for `--metrics-linger`, until a signal), then stops serving. */
  close(): Promise<void>;
}

export async function serveRunMetrics(
  flags: MetricsFlags & { metricsLinger: number },
  executor: ShardExecutor,
  plan: string,
): Promise<RunMonitoring> {
  if (flags.metricsPort === undefined) return { executor, onEvent: () => undefined, onReport: () => undefined, close: async () => {} };
  let server: MetricsServer;
  let run: LocalRunMetrics;
  try {
    // prom-client loads only when metrics are asked for.
    const [{ createGrymMetrics }, { localRunMetrics }] = await Promise.all([
      import('../shared/monitoring/grym-metrics.js'),
      import('../coordinator/monitoring/local-run-metrics.js'),
    ]);
    const metrics = createGrymMetrics();
    run = localRunMetrics(metrics, executor, plan);
    server = (await serveMetrics(flags, metrics)) as MetricsServer;
  } catch (error) {
    await executor.close();
    throw error;
  }
  let reported = false;
  return {
    executor: run.executor,
    onEvent: run.onEvent,
    onReport(report) {
      reported = true;
      run.onReport(report);
    },
    async close() {
      if (reported && flags.metricsLinger > 0) await linger(flags.metricsLinger, server.url);
      await server.close();
    },
  };
}

/** Waits `ms`, or until SIGINT or SIGTERM: a last scrape can read the final figures meanwhile. */
function linger(ms: number, url: string): Promise<void> {
  console.log(`serving the final metrics on ${url} for ${Math.round(ms / 1000)} s (Ctrl-C stops now)`);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      process.off('SIGINT', done).off('SIGTERM', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    process.on('SIGINT', done).on('SIGTERM', done);
  });
}
