import { Command, Option } from 'commander';
import { DEFAULT_DASHBOARD_PORT, DEFAULT_HOST } from '../../shared/defaults';
import { EXIT } from '../../shared/errors';
import { redactRedisUrl } from '../../shared/queue-layout';
import { metricsHostOption, metricsPortOption, serveMetrics, type MetricsFlags } from '../metrics-options';
import { port, prefixOption, redisOption, redisTimeoutOption, requireRedis, untilSignal, type SetExitCode } from '../options';

interface DashboardCommandOptions extends MetricsFlags {
  redis?: string;
  prefix: string;
  port: number;
  host: string;
  writable?: boolean;
  aggregate: boolean;
  redisTimeout: number;
}

export function dashboardCommand(setExitCode: SetExitCode): Command {
  return new Command('dashboard')
    .description('serve bull-board and the run reports; credentials from GRYM_DASHBOARD_USER and GRYM_DASHBOARD_PASSWORD')
    .addOption(redisOption())
    .addOption(prefixOption())
    .addOption(new Option('--port <port>', 'port to listen on').argParser(port).default(DEFAULT_DASHBOARD_PORT))
    .option('--host <host>', 'address to bind (a non-loopback address needs credentials)', DEFAULT_HOST)
    .option('--writable', 'allow retrying and removing jobs from the board (read-only by default)')
    .option('--no-aggregate', 'do not aggregate finished runs in this process')
    .addOption(redisTimeoutOption())
    .addOption(metricsPortOption())
    .addOption(metricsHostOption())
    .action(async (options: DashboardCommandOptions) => {
      const redisUrl = requireRedis(options.redis);
      // Before anything connects: a Redis that is away or refuses the password ends here, in one line.
      const { ensureRedisReachable } = await import('../../shared/redis-connection.js');
      await ensureRedisReachable(redisUrl, options.redisTimeout);
      const [{ dashboardCredentialsFromEnv, startDashboard }, { startControlWorker }] = await Promise.all([
        import('../../dashboard/index.js'),
        import('../../coordinator/distributed/index.js'),
      ]);
      const credentials = dashboardCredentialsFromEnv(process.env);
      const readOnly = options.writable !== true;
      const dashboard = await startDashboard({
        redisUrl,
        prefix: options.prefix,
        host: options.host,
        port: options.port,
        readOnly,
        ...(credentials ? { credentials } : {}),
      });
      let control: { close(): Promise<void> } | undefined;
      let runMetrics: { close(): Promise<void> } | undefined;
      let metricsServer: { close(): Promise<void> } | undefined;
      try {
        control = options.aggregate
          ? await startControlWorker({ redisUrl, prefix: options.prefix, name: `dashboard-${process.pid}` })
          : undefined;
        if (options.metricsPort !== undefined) {
          const [{ createGrymMetrics }, { dashboardMetrics }] = await Promise.all([
            import('../../shared/monitoring/grym-metrics.js'),
            import('../../dashboard/dashboard-metrics.js'),
          ]);
          const metrics = createGrymMetrics();
          const fromRedis = dashboardMetrics({ redisUrl, prefix: options.prefix, metrics });
          runMetrics = fromRedis;
          metricsServer = await serveMetrics(options, metrics, () => fromRedis.collect());
        }
      } catch (error) {
        await runMetrics?.close();
        await control?.close();
        await dashboard.close();
        throw error;
      }
      const access = credentials ? 'password protected' : 'no credentials: loopback only';
      console.log(`dashboard on ${dashboard.url} (${access}, ${readOnly ? 'read-only' : 'writable'}), Redis ${redactRedisUrl(redisUrl)}`);
      await untilSignal(async () => {
        await dashboard.close();
        await control?.close();
        await metricsServer?.close();
        await runMetrics?.close();
      });
      setExitCode(EXIT.passed);
    });
}
