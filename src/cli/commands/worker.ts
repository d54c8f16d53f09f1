import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_LOCK_DURATION_MS } from '../../shared/defaults';
import { EXIT, GrymError } from '../../shared/errors';
import { redactRedisUrl } from '../../shared/queue-layout';
import { defaultWorkerName, workerNameProblem } from '../../worker/queue/worker-name';
import { createWorkerPolicy, parseEnvNames, type WorkerPolicy } from '../../worker/queue/worker-policy';
import { metricsHostOption, metricsPortOption, serveMetrics, type MetricsFlags } from '../metrics-options';
import { durationMs, positiveInt, prefixOption, redisOption, requireRedis, type SetExitCode } from '../options';

interface WorkerOptions extends MetricsFlags {
  redis?: string;
  prefix: string;
  concurrency: number;
  threads?: number;
  name?: string;
  lockDuration: number;
  allowEnv: string[];
  allowModules?: string;
  aggregate: boolean;
}

function workerName(value: string): string {
  const problem = workerNameProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value;
}

/** `--allow-env` may be given several times, each a comma-separated list. */
function envNames(value: string, previous: string[]): string[] {
  try {
    return [...previous, ...parseEnvNames(value, '--allow-env')];
  } catch (error) {
    throw error instanceof GrymError ? new InvalidArgumentError(error.message) : error;
  }
}

/** The operator's policy from the flags and GRYM_ALLOW_ENV (merged), said once in the log. */
async function policyOf(options: WorkerOptions, log: (line: string) => void): Promise<WorkerPolicy> {
  const fromEnv = parseEnvNames(process.env.GRYM_ALLOW_ENV ?? '', 'GRYM_ALLOW_ENV');
  const { policy, ignoredEnv } = await createWorkerPolicy({
    allowEnv: [...options.allowEnv, ...fromEnv],
    ...(options.allowModules === undefined ? {} : { allowModulesDir: options.allowModules }),
  });
  if (ignoredEnv.length > 0) log(`not giving ${ignoredEnv.join(', ')} to plans: GRYM_* variables are never given`);
  const env = policy.allowEnv.size > 0 ? [...policy.allowEnv].join(', ') : 'none';
  log(`plans may read environment variables: ${env}; module targets from: ${policy.allowModulesDir ?? 'nowhere'}`);
  return policy;
}

/**
 * Resolves once the worker has stopped. The first SIGTERM or SIGINT stops it gracefully, the second
 * forces it (`stop(true)`), the third exits at once. The listeners stay installed from start to
 * end: removing the last one would restore the default action, and a signal in that gap would kill
 * the worker without handing its shard back.
 */
function untilStopped(stop: (force: boolean) => Promise<void>, log: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let signals = 0;
    const onSignal = () => {
      signals += 1;
      if (signals === 1) void stop(false).finally(resolve);
      else if (signals === 2) void stop(true);
      else {
        log('exiting now');
        process.exit(EXIT.aborted);
      }
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
}

export function workerCommand(setExitCode: SetExitCode): Command {
  return new Command('worker')
    .description("take phase shards from Redis and run them in this process's worker threads, until SIGTERM")
    .addOption(redisOption())
    .addOption(prefixOption())
    .addOption(new Option('--concurrency <n>', 'shards this process runs at once').argParser(positiveInt).default(1))
    .addOption(
      new Option('--threads <n>', 'worker threads (default: one per core, or per core of its CPU quota when a cgroup limits it)').argParser(
        positiveInt,
      ),
    )
    .addOption(
      new Option('--name <name>', 'worker name recorded in results: letters, digits, . _ - (default: host name and pid)').argParser(
        workerName,
      ),
    )
    .addOption(
      new Option('--lock-duration <duration>', "time after which a dead worker's shard is handed to another, such as 30s")
        .argParser(durationMs)
        .default(DEFAULT_LOCK_DURATION_MS, '30s'),
    )
    .addOption(
      new Option(
        '--allow-env <names>',
        'environment variables plans may use as target.apiKeyEnv, comma-separated, merged with $GRYM_ALLOW_ENV (never GRYM_*)',
      )
        .argParser(envNames)
        .default([], 'none'),
    )
    .option('--allow-modules <dir>', 'load module targets, only files whose real path lies inside this folder (default: none)')
    .option(
      '--no-aggregate',
      "do not coordinate runs in this process (fan out phases, guard their shards' abort conditions, aggregate reports): " +
        'leave it to other workers or a dashboard, so this load generator spends no CPU on it',
    )
    .addOption(metricsPortOption())
    .addOption(metricsHostOption())
    .action(async (options: WorkerOptions) => {
      const redisUrl = requireRedis(options.redis);
      const name = options.name ?? defaultWorkerName();
      const log = (line: string) => console.log(`${new Date().toISOString()} ${name} ${line}`);
      const policy = await policyOf(options, log);
      const [{ startShardWorker }, { startControlWorker }, { createGrymMetrics }, { ShardMetricsFeed }] = await Promise.all([
        import('../../worker/queue/shard-worker.js'),
        import('../../coordinator/distributed/index.js'),
        import('../../shared/monitoring/grym-metrics.js'),
        import('../../shared/monitoring/shard-metrics-feed.js'),
      ]);
      const metrics = options.metricsPort === undefined ? undefined : createGrymMetrics();
      const metricsServer = metrics ? await serveMetrics(options, metrics) : undefined;
      const shardWorker = await startShardWorker({
        redisUrl,
        prefix: options.prefix,
        concurrency: options.concurrency,
        ...(options.threads ? { threads: options.threads } : {}),
        name,
        lockDurationMs: options.lockDuration,
        policy,
        log,
        ...(metrics ? { metrics: new ShardMetricsFeed(metrics) } : {}),
      });
      const control = options.aggregate ? await startControlWorker({ redisUrl, prefix: options.prefix, name, log }) : undefined;
      log(
        `ready on ${redactRedisUrl(redisUrl)} (prefix "${options.prefix}", concurrency ${options.concurrency}` +
          `${control ? '' : ', not aggregating'})`,
      );
      await untilStopped(async (force) => {
        if (force) {
          log('handing the running shard back');
          await shardWorker.close(true);
          return;
        }
        log('stopping: finishing the running shard (send the signal again to hand it back now)');
        await Promise.all([shardWorker.close(), control?.close()]);
        await metricsServer?.close();
        log('stopped');
      }, log);
      setExitCode(EXIT.passed);
    });
}
