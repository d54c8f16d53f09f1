import { Command, Option } from 'commander';
import { dirname } from 'node:path';
import type { RunEndOutputs } from '../../coordinator/ci/publish-run-end';
import type { RunComparison } from '../../coordinator/comparison';
import type { ExportRequest } from '../../coordinator/exports/write-exports';
import { loadPlan } from '../../coordinator/load-plan';
import { createProgressReporter, type ProgressReporter } from '../../coordinator/progress-reporter';
import { resolveTarget } from '../../coordinator/resolve-target';
import { runPlan } from '../../coordinator/run-plan';
import { unsetApiKey } from '../../coordinator/unset-api-key';
import { DEFAULT_BARRIER_TIMEOUT_MS, DEFAULT_HOST, DEFAULT_OUT_DIR, DEFAULT_REQUEST_LOG_SIZE, WORKER_WAIT_MS } from '../../shared/defaults';
import { EnvNotSetError, EXIT, exitCodesHelp, UsageError } from '../../shared/errors';
import type { LoadedPlan } from '../../shared/parse-plan';
import type { RunReport } from '../../shared/run-report';
import { parseRunId, redactRedisUrl } from '../../shared/queue-layout';
import { mockOf } from '../../shared/target-schema';
import type { ShardResult } from '../../shared/shard-result';
import { createLocalExecutor } from '../../worker/local-executor';
import { historyOption, historyRetentionOption } from '../history-options';
import { metricsHostOption, metricsLingerOption, metricsPortOption, serveRunMetrics } from '../metrics-options';
import { startRunHistory, type RunHistory } from '../run-history';
import { ensureWritableFile, ensureWritableOut } from '../writable-out';
import {
  durationMs,
  positiveInt,
  prefixOption,
  redisOption,
  redisTimeoutOption,
  rejectWithoutRedis,
  requestLogCap,
  requireRedis,
  type SetExitCode,
} from '../options';

type PublishRunEnd = typeof import('../../coordinator/ci/publish-run-end');
type SendAlerts = typeof import('../../coordinator/alerts/send-alerts');
type FinishRun = typeof import('../finish-run');
type StartMockLlm = typeof import('../../mock-llm/start-mock-llm');

// Loaded when first used, not at launch: JUnit XML, CI outputs and webhooks bring in xmlbuilder2 and
// undici, about 180 ms of a launch that must reach its first request in 250 ms; the reports are
// written after the run, and the mock serves only plans that test it (~25 ms together).
const finishRun: FinishRun['finishRun'] = (...args) => (require('../finish-run') as FinishRun).finishRun(...args);
const startMockLlm: StartMockLlm['startMockLlm'] = (...args) =>
  (require('../../mock-llm/start-mock-llm') as StartMockLlm).startMockLlm(...args);
const publishRunEnd: PublishRunEnd['publishRunEnd'] = (outputs) =>
  (require('../../coordinator/ci/publish-run-end') as PublishRunEnd).publishRunEnd(outputs);
const unsetWebhookVariables: SendAlerts['unsetWebhookVariables'] = (alerts, env) =>
  alerts?.webhooks?.length ? (require('../../coordinator/alerts/send-alerts') as SendAlerts).unsetWebhookVariables(alerts, env) : [];

interface RunOptions {
  out: string;
  threads?: number;
  redis?: string;
  prefix: string;
  detach?: boolean;
  mockHost: string;
  barrierTimeout: number;
  workerWait: number;
  runId?: string;
  redisTimeout: number;
  quiet?: boolean;
  csv?: string;
  requests?: string;
  requestsMax: number;
  history?: string | false;
  historyRetention: number;
  baseline?: string;
  junit?: string;
  metricsPort?: number;
  metricsHost: string;
  metricsLinger: number;
}

/** The options that only mean something for a distributed run (attribute names). */
const REDIS_ONLY_OPTIONS = ['detach', 'runId', 'barrierTimeout', 'workerWait', 'mockHost', 'prefix', 'redisTimeout'] as const;

/** Usage errors found from the flags alone, before the plan is read or anything is sent. */
function checkRunFlags(command: Command, options: RunOptions): void {
  rejectWithoutRedis(command, REDIS_ONLY_OPTIONS, options.redis);
  if (options.redis !== undefined) requireRedis(options.redis);
  if (options.redis !== undefined && options.metricsPort !== undefined) {
    throw new UsageError(
      "a distributed run's requests are sent and counted by its workers, not by this command",
      'give --metrics-port to each `grym-perf worker` (and to `grym-perf dashboard` for run states), and drop it here',
    );
  }
  if (options.runId !== undefined) parseRunId(options.runId);
  if (options.detach && (options.csv !== undefined || options.requests !== undefined)) {
    throw new UsageError(
      '--detach writes nothing at the end of the run, so --csv and --requests have nowhere to go',
      'drop --detach, or keep a request sample with --requests-max N and write both later with `grym-perf report <run id> --csv DIR --requests FILE`',
    );
  }
  if (options.detach && options.junit !== undefined) {
    throw new UsageError(
      '--detach writes nothing at the end of the run, so --junit has nowhere to go',
      'drop --detach, or write it later with `grym-perf report <run id> --junit FILE`',
    );
  }
  const requestsMaxGiven = command.getOptionValueSource('requestsMax') === 'cli';
  if (requestsMaxGiven && options.requests === undefined && !options.detach) {
    throw new UsageError(
      '--requests-max bounds the request log of --requests, which was not given',
      'add --requests FILE, or drop --requests-max',
    );
  }
}

/** How many requests per phase the shards keep for the request log: none unless one was asked for. */
function requestLogSize(command: Command, options: RunOptions): number {
  const asked = options.requests !== undefined || (options.detach === true && command.getOptionValueSource('requestsMax') === 'cli');
  return asked ? options.requestsMax : 0;
}

/**
 * Ctrl-C (SIGINT) or SIGTERM on a local run: the terminal is given back at once (bar stopped, cursor
 * shown), `interrupt` aborts (the running phase stops, the others are skipped) and the run goes on
 * to write the reports of what was measured. A second signal exits at once with 130. Returns the
 * function that removes the handlers.
 */
function handleInterrupts(progress: ProgressReporter, interrupt: AbortController): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    progress.stop();
    if (interrupt.signal.aborted) {
      console.error(`${signal} again: quitting without reports`);
      process.exit(EXIT.aborted);
    }
    console.error(`${signal}: stopping the run and writing the reports of what was measured (press Ctrl-C again to quit at once)`);
    interrupt.abort('interrupted');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

async function runLocally(
  loaded: LoadedPlan,
  options: RunOptions,
  requestLog: number,
  progress: ProgressReporter,
  history: RunHistory,
): Promise<number> {
  const interrupt = new AbortController();
  const { signal } = interrupt;
  // Closes the executor itself when the metrics port cannot be taken.
  const monitoring = await serveRunMetrics(
    options,
    createLocalExecutor({ ...(options.threads ? { threads: options.threads } : {}), stopSignal: signal }),
    loaded.plan.name,
  );
  const removeHandlers = handleInterrupts(progress, interrupt);
  const { executor } = monitoring;
  const phaseResults: Array<ShardResult | null> = [];
  try {
    const report = await runPlan(loaded, {
      executor,
      mode: 'local',
      startMock: startMockLlm,
      onEvent: (event) => {
        progress.onEvent(event);
        monitoring.onEvent(event);
      },
      stopSignal: signal,
      tasks: { requestLog },
      onPhaseResult: (phaseIndex, merged) => (phaseResults[phaseIndex] = merged),
    });
    progress.stop();
    monitoring.onReport(report);
    const exitCode = await finishRun(report, options.out, exportsOf(options, phaseResults));
    const kept = await history.finish(report, phaseResults);
    await publishRunEnd(runEndOutputs(report, loaded, options, kept.comparison));
    return report.aborted ? EXIT.aborted : exitCode || kept.exitCode;
  } finally {
    progress.stop();
    await executor.close();
    removeHandlers();
    await monitoring.close();
  }
}

async function runDistributed(
  loaded: LoadedPlan,
  redisUrl: string,
  options: RunOptions,
  requestLog: number,
  progress: ProgressReporter,
  history: RunHistory,
): Promise<number> {
  // BullMQ and its Redis client load only for distributed runs.
  const [{ submitRun, watchRun, fetchPhaseResults, addLiveCriteria, WATCH_REDIS_DOWN_TIMEOUT_MS }, { ensureRedisReachable }] =
    await Promise.all([import('../../coordinator/distributed/index.js'), import('../../shared/redis-connection.js')]);
  const { plan, source } = loaded;
  const mockConfig = mockOf(plan.target);
  if (mockConfig && options.detach) {
    throw new UsageError(
      `${source} tests the in-process mock, which lives only as long as this command`,
      'drop --detach, or run `grym-perf mock-llm` and point target.baseUrl at it',
    );
  }
  // One line and exit 3 within --redis-timeout when Redis is away or refuses the password.
  await ensureRedisReachable(redisUrl, options.redisTimeout);
  const mock = mockConfig ? await startMockLlm(mockConfig, { host: options.mockHost, port: 0 }) : undefined;
  try {
    const target = resolveTarget(plan.target, mock?.url, dirname(source));
    const { runId, workers } = await submitRun({
      redisUrl,
      prefix: options.prefix,
      loaded,
      target,
      barrierTimeoutMs: options.barrierTimeout,
      workerWaitMs: options.workerWait,
      tasks: { requestLog },
      ...(options.runId ? { runId: options.runId } : {}),
    });
    console.log(`run ${runId} submitted to ${redactRedisUrl(redisUrl)} (${workers} worker${workers === 1 ? '' : 's'} listening)`);
    if (options.detach) return EXIT.passed;
    const report = await watchRun({
      redisUrl,
      prefix: options.prefix,
      runId,
      onProgress: (polled) => progress.onRunProgress(addLiveCriteria(plan.phases, polled)),
      // A run being followed survives a Redis restart: wait at least a minute, or --redis-timeout if longer.
      redisDownTimeoutMs: Math.max(WATCH_REDIS_DOWN_TIMEOUT_MS, options.redisTimeout),
    });
    progress.stop();
    const phaseResults =
      options.requests === undefined && !history.keeps
        ? []
        : await fetchPhaseResults({ redisUrl, prefix: options.prefix, runId, phaseCount: report.phases.length });
    const exitCode = await finishRun(report, options.out, exportsOf(options, phaseResults));
    const kept = await history.finish(report, phaseResults);
    await publishRunEnd(runEndOutputs(report, loaded, options, kept.comparison));
    return exitCode || kept.exitCode;
  } finally {
    progress.stop();
    await mock?.close();
  }
}

/** After the reports and the history: --junit, the job summary, the plan's alerts (with the comparison, when a baseline was given). */
function runEndOutputs(report: RunReport, loaded: LoadedPlan, options: RunOptions, comparison: RunComparison | undefined): RunEndOutputs {
  const junit = options.junit !== undefined ? { junitFile: options.junit } : {};
  const alerts = loaded.plan.alerts ? { alerts: loaded.plan.alerts } : {};
  return { report, outDir: options.out, stepSummary: true, ...junit, ...alerts, ...(comparison ? { comparison } : {}) };
}

function exportsOf(options: RunOptions, phaseResults: Array<ShardResult | null>): ExportRequest {
  return {
    ...(options.csv !== undefined ? { csvDir: options.csv } : {}),
    ...(options.requests !== undefined ? { requests: { file: options.requests, phaseResults } } : {}),
  };
}

export function runCommand(setExitCode: SetExitCode): Command {
  return new Command('run')
    .description('run a test plan and write report.json, report.md and report.html; exit 0 when every criterion passes, 1 when one fails')
    .argument('<plan>', 'plan file (YAML or JSON)')
    .option('--out <dir>', 'directory for report.json, report.md and report.html', DEFAULT_OUT_DIR)
    .addOption(new Option('--threads <n>', 'worker threads for the in-process executor').argParser(positiveInt))
    .addOption(redisOption())
    .addOption(prefixOption())
    .addOption(
      new Option('--barrier-timeout <duration>', "with --redis: how long a phase's shards wait for each other to start, such as 30s")
        .argParser(durationMs)
        .default(DEFAULT_BARRIER_TIMEOUT_MS, '30s'),
    )
    .addOption(
      new Option('--worker-wait <duration>', 'with --redis: how long to wait for a first worker before refusing to queue the run')
        .argParser(durationMs)
        .default(WORKER_WAIT_MS, '5s'),
    )
    .option('--run-id <id>', 'with --redis: the run id, letters, digits, . _ - (submitting the same id again does not run it twice)')
    .option('--detach', 'with --redis: return after submitting; fetch the reports later with `grym-perf report`')
    .option(
      '--mock-host <host>',
      "with --redis and a plan's target.mock: address the in-process mock binds to (workers must reach it)",
      DEFAULT_HOST,
    )
    .addOption(redisTimeoutOption())
    .option('--quiet', 'print only the summary')
    .option('--csv <dir>', 'also write windows.csv (each phase window by window) and percentiles.csv (whole-phase distributions) there')
    .option(
      '--requests <file>',
      'also write one JSON line per request there (a uniform sample when a phase sends more than --requests-max)',
    )
    .addOption(
      new Option('--requests-max <n>', 'requests per phase kept for --requests; each line says how many it stands for')
        .argParser(requestLogCap)
        .default(DEFAULT_REQUEST_LOG_SIZE),
    )
    .option('--junit <file>', 'also write the verdict as JUnit XML there: a test suite per phase, a test case per criterion')
    .addOption(historyOption())
    .option('--no-history', 'keep no history of this run')
    .addOption(historyRetentionOption())
    .addOption(metricsPortOption())
    .addOption(metricsHostOption())
    .addOption(metricsLingerOption())
    .option(
      '--baseline <run>',
      'compare with this run of the history (a run id, latest, latest~1, or a report.json): exit 1 on a regression',
    )
    .addHelpText('after', `\n${exitCodesHelp()}`)
    .action(async (planPath: string, options: RunOptions, command: Command) => {
      checkRunFlags(command, options);
      const loaded = await loadPlan(planPath);
      // A local run sends from here: a key variable not set here would send every request without it.
      // (Distributed runs read keys on the workers, which check their own environment.)
      const unset = options.redis ? undefined : unsetApiKey(loaded.plan);
      if (unset) throw new EnvNotSetError(unset, 'here');
      if (!options.detach) await ensureWritableOut(options.out);
      if (options.csv !== undefined) await ensureWritableOut(options.csv, '--csv');
      if (options.requests !== undefined) await ensureWritableFile(options.requests, '--requests');
      if (options.junit !== undefined) await ensureWritableFile(options.junit, '--junit');
      for (const name of unsetWebhookVariables(loaded.plan.alerts))
        console.warn(`warning: alerts: ${name} is not set here: its webhook will not be called`);
      const requestLog = requestLogSize(command, options);
      const history = await startRunHistory(options, loaded.plan.name);
      const progress = createProgressReporter({ quiet: options.quiet === true });
      setExitCode(
        options.redis
          ? await runDistributed(loaded, options.redis, options, requestLog, progress, history)
          : await runLocally(loaded, options, requestLog, progress, history),
      );
    });
}
