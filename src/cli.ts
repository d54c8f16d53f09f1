#!/usr/bin/env node
/**
 * The grym-perf command line. Exit codes: 0 all criteria passed (or the command succeeded), 1 a
 * criterion failed, 2 invalid plan or usage error, 3 an internal or infrastructure failure.
 * This file only wires the parts together: coordinator, worker and mock meet here.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { createProgressReporter, loadPlanFile, loadPlanWithInput, renderSummary, resolveTarget, runPlan, writeReports, type ProgressReporter } from './coordinator';
import { DEFAULT_MOCK_CONFIG, startMockLlm } from './mock-llm';
import { GrymError, UsageError } from './shared/errors';
import type { Plan } from './shared/plan-schema';
import { DEFAULT_PREFIX, redactRedisUrl } from './shared/queue-layout';
import type { RunReport } from './shared/run-report';
import { toolVersion } from './shared/tool-version';
import { createLocalExecutor } from './worker';

export const EXIT = { passed: 0, failed: 1, usage: 2, internal: 3 } as const;

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a whole number >= 1');
  return parsed;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535');
  return parsed;
}

/** Waits for SIGINT or SIGTERM, then runs `stop` once. */
function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      void stop().finally(resolve);
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
}

interface RunOptions {
  out: string;
  threads?: number;
  redis?: string;
  prefix: string;
  detach?: boolean;
  mockHost: string;
  barrierTimeout: number;
  runId?: string;
  quiet?: boolean;
}

// Redis URLs may hold a password: prefer the environment, which `ps` and shell history do not show.
function redisOption(): Option {
  return new Option('--redis <url>', 'Redis URL (redis:// or rediss://); default: $GRYM_REDIS_URL').env('GRYM_REDIS_URL');
}

function prefixOption(): Option {
  return new Option('--prefix <prefix>', 'queue prefix shared by coordinator, workers and dashboard').default(DEFAULT_PREFIX);
}

function requireRedis(url: string | undefined): string {
  if (!url) throw new UsageError('needs a Redis URL: pass --redis redis://host:6379 or set GRYM_REDIS_URL');
  return url;
}

/** Writes both reports, prints the summary and turns the verdict into the exit code. */
async function finish(report: RunReport, outDir: string): Promise<number> {
  const paths = await writeReports(report, outDir);
  console.log(renderSummary(report));
  console.log(`reports: ${paths.jsonPath} ${paths.markdownPath}`);
  return report.passed ? EXIT.passed : EXIT.failed;
}

// The distributed parts (BullMQ, express, bull-board) load only for the commands that use them.
const distributed = (): typeof import('./coordinator/distributed') => require('./coordinator/distributed');

async function runDistributed(plan: Plan, input: unknown, planPath: string, options: RunOptions, progress: ProgressReporter): Promise<number> {
  const redisUrl = requireRedis(options.redis);
  const { submitRun, watchRun } = distributed();
  if (plan.target.mock && options.detach) {
    throw new UsageError(`${planPath} tests the in-process mock, which lives only as long as this command: drop --detach, or run \`grym-perf mock-llm\` and point target.baseUrl at it`);
  }
  const mock = plan.target.mock ? await startMockLlm(plan.target.mock, { host: options.mockHost, port: 0 }) : undefined;
  try {
    const target = resolveTarget(plan.target, mock?.url, dirname(planPath));
    const { runId, workers } = await submitRun({ redisUrl, prefix: options.prefix, plan, planInput: input, planSource: planPath, target, barrierTimeoutMs: options.barrierTimeout, ...(options.runId ? { runId: options.runId } : {}) });
    console.log(`run ${runId} submitted to ${redactRedisUrl(redisUrl)} (${workers} worker${workers === 1 ? '' : 's'} listening)`);
    if (options.detach) return EXIT.passed;
    const report = await watchRun({ redisUrl, prefix: options.prefix, runId, onProgress: progress.onRunProgress });
    progress.stop();
    return await finish(report, options.out);
  } finally {
    progress.stop();
    await mock?.close();
  }
}

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('grym-perf')
    .description('Performance tests for LLM integrations: latency, memory, context retention, model switches, stability.')
    .version(toolVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('validate')
    .description('check a test plan; exit 0 when valid, 2 with every problem named when not')
    .argument('<plan>', 'plan file (YAML or JSON)')
    .action(async (planPath: string) => {
      const plan = await loadPlanFile(planPath);
      console.log(`${planPath}: valid plan "${plan.name}" with ${plan.phases.length} phase${plan.phases.length === 1 ? '' : 's'} (${plan.phases.map((phase) => phase.name).join(', ')})`);
      setExitCode(EXIT.passed);
    });

  program
    .command('run')
    .description('run a test plan and write report.json and report.md; exit 0 when every criterion passes, 1 when one fails')
    .argument('<plan>', 'plan file (YAML or JSON)')
    .option('--out <dir>', 'directory for report.json and report.md', 'reports/latest')
    .addOption(new Option('--threads <n>', 'worker threads for the in-process executor').argParser(positiveInt))
    .addOption(redisOption())
    .addOption(prefixOption())
    .addOption(new Option('--barrier-timeout <ms>', "with --redis: how long a phase's shards wait for each other to start").argParser(positiveInt).default(30_000))
    .option('--run-id <id>', 'with --redis: the run id (submitting the same id again does not run it twice)')
    .option('--detach', 'with --redis: return after submitting; fetch the reports later with `grym-perf report`')
    .option('--mock-host <host>', "with --redis and a plan's target.mock: address the in-process mock binds to (workers must reach it)", '127.0.0.1')
    .option('--quiet', 'print only the summary')
    .action(async (planPath: string, options: RunOptions) => {
      const { plan, input } = await loadPlanWithInput(planPath);
      const progress = createProgressReporter({ quiet: options.quiet === true });
      if (options.redis) {
        setExitCode(await runDistributed(plan, input, planPath, options, progress));
        return;
      }
      const executor = createLocalExecutor({ threads: options.threads });
      try {
        const report = await runPlan(plan, { executor, source: planPath, mode: 'local', startMock: startMockLlm, onEvent: progress.onEvent });
        progress.stop();
        setExitCode(await finish(report, options.out));
      } finally {
        progress.stop();
        await executor.close();
      }
    });

  program
    .command('worker')
    .description('take phase shards from Redis and run them in this process\'s worker threads, until SIGTERM')
    .addOption(redisOption())
    .addOption(prefixOption())
    .addOption(new Option('--concurrency <n>', 'shards this process runs at once').argParser(positiveInt).default(1))
    .addOption(new Option('--threads <n>', 'worker threads (default: one per core)').argParser(positiveInt))
    .option('--name <name>', 'worker name recorded in results (default: host name and pid)')
    .addOption(new Option('--lock-duration <ms>', 'time after which a dead worker\'s shard is handed to another').argParser(positiveInt).default(30_000))
    .action(async (options: { redis?: string; prefix: string; concurrency: number; threads?: number; name?: string; lockDuration: number }) => {
      const redisUrl = requireRedis(options.redis);
      const { startShardWorker } = (require('./worker/queue/shard-worker') as typeof import('./worker/queue/shard-worker'));
      const { startControlWorker } = distributed();
      const name = options.name ?? `${hostname()}-${process.pid}`;
      const log = (line: string) => console.log(`${new Date().toISOString()} ${name} ${line}`);
      const shardWorker = await startShardWorker({ redisUrl, prefix: options.prefix, concurrency: options.concurrency, threads: options.threads, name, lockDurationMs: options.lockDuration, log });
      const control = await startControlWorker({ redisUrl, prefix: options.prefix, name, log });
      log(`ready on ${redactRedisUrl(redisUrl)} (prefix "${options.prefix}", concurrency ${options.concurrency})`);
      await untilSignal(async () => {
        log('stopping: finishing the running shard (send the signal again to hand it back now)');
        const forceOnSecondSignal = () => void shardWorker.close(true);
        process.once('SIGTERM', forceOnSecondSignal).once('SIGINT', forceOnSecondSignal);
        await Promise.all([shardWorker.close(), control.close()]);
        log('stopped');
      });
      setExitCode(EXIT.passed);
    });

  program
    .command('report')
    .description('write the reports of a distributed run that has finished')
    .argument('<runId>', 'the run id printed by `grym-perf run --redis`')
    .addOption(redisOption())
    .addOption(prefixOption())
    .option('--out <dir>', 'directory for report.json and report.md', 'reports/latest')
    .action(async (runId: string, options: { redis?: string; prefix: string; out: string }) => {
      const { fetchRunReport } = distributed();
      const found = await fetchRunReport({ redisUrl: requireRedis(options.redis), prefix: options.prefix, runId });
      if (!found.report) {
        console.error(`run ${runId} is ${found.state}: its report is not ready yet`);
        setExitCode(EXIT.internal);
        return;
      }
      setExitCode(await finish(found.report, options.out));
    });

  program
    .command('dashboard')
    .description('serve bull-board and the run reports; credentials from GRYM_DASHBOARD_USER and GRYM_DASHBOARD_PASSWORD')
    .addOption(redisOption())
    .addOption(prefixOption())
    .addOption(new Option('--port <port>', 'port to listen on').argParser(port).default(3000))
    .option('--host <host>', 'address to bind (a non-loopback address needs credentials)', '127.0.0.1')
    .option('--writable', 'allow retrying and removing jobs from the board (read-only by default)')
    .option('--no-aggregate', 'do not aggregate finished runs in this process')
    .action(async (options: { redis?: string; prefix: string; port: number; host: string; writable?: boolean; aggregate: boolean }) => {
      const redisUrl = requireRedis(options.redis);
      const { dashboardCredentialsFromEnv, startDashboard } = (require('./dashboard') as typeof import('./dashboard'));
      const { startControlWorker } = distributed();
      const credentials = dashboardCredentialsFromEnv(process.env);
      const dashboard = await startDashboard({ redisUrl, prefix: options.prefix, host: options.host, port: options.port, readOnly: options.writable !== true, credentials });
      const control = options.aggregate ? await startControlWorker({ redisUrl, prefix: options.prefix, name: `dashboard-${process.pid}` }) : undefined;
      console.log(`dashboard on ${dashboard.url} (${credentials ? 'password protected' : 'no credentials: loopback only'}, ${options.writable ? 'writable' : 'read-only'}), Redis ${redactRedisUrl(redisUrl)}`);
      await untilSignal(async () => {
        await dashboard.close();
        await control?.close();
      });
      setExitCode(EXIT.passed);
    });

  program
    .command('mock-llm')
    .description('serve the built-in mock LLM (OpenAI-compatible /v1 and Ollama-style /api) until interrupted')
    .addOption(new Option('--port <port>', 'port to listen on (0 picks a free one)').argParser(port).default(8000))
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--plan <file>', "serve the models of this plan's target.mock section")
    .action(async (options: { port: number; host: string; plan?: string }) => {
      const config = options.plan ? (await loadPlanFile(options.plan)).target.mock : DEFAULT_MOCK_CONFIG;
      if (!config) throw new GrymError('GRYM_ERR_USAGE', `${options.plan} has no target.mock section to serve`);
      const server = await startMockLlm(config, { port: options.port, host: options.host });
      console.log(`mock LLM listening on ${server.url} (OpenAI base URL ${server.url}/v1); models: ${config.models.map((model) => model.name).join(', ')}`);
      await untilSignal(() => server.close());
      setExitCode(EXIT.passed);
    });

  return program;
}

/** Runs the CLI and resolves to its exit code (never calls process.exit itself). */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.passed;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0; usage errors were already printed.
      return error.exitCode === 0 ? EXIT.passed : EXIT.usage;
    }
    if (error instanceof GrymError) {
      console.error(`error ${error.code}: ${error.message}`);
      const usage: string[] = ['GRYM_ERR_PLAN_INVALID', 'GRYM_ERR_PLAN_UNREADABLE', 'GRYM_ERR_USAGE', 'GRYM_ERR_RUN_NOT_FOUND'];
      return usage.includes(error.code) ? EXIT.usage : EXIT.internal;
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return EXIT.internal;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
