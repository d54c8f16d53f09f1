import { Command } from 'commander';
import type { ExportRequest } from '../../coordinator/exports/write-exports';
import { DEFAULT_OUT_DIR } from '../../shared/defaults';
import { RunNotFinishedError, RunNotFoundError } from '../../shared/errors';
import { parseRunId } from '../../shared/queue-layout';
import type { RunReport } from '../../shared/run-report';
import { finishRun } from '../finish-run';
import { historyOption, historyRetentionOption, type HistoryFlags } from '../history-options';
import { keptReport, requireKeptReport } from '../kept-report';
import { prefixOption, redisOption, redisTimeoutOption, requireRedis, type SetExitCode } from '../options';
import { ensureWritableFile, ensureWritableOut } from '../writable-out';

interface ReportOptions extends HistoryFlags {
  redis?: string;
  prefix: string;
  out: string;
  wait?: boolean;
  redisTimeout: number;
  csv?: string;
  requests?: string;
  junit?: string;
}

/**
 * The exports asked for. The request log comes from the phase results the run kept in Redis, and
 * exists only when the run was submitted with --requests or --requests-max.
 */
async function exportsOf(redisUrl: string, runId: string, report: RunReport, options: ReportOptions): Promise<ExportRequest> {
  const csv = options.csv !== undefined ? { csvDir: options.csv } : {};
  if (options.requests === undefined) return csv;
  const { fetchPhaseResults } = await import('../../coordinator/distributed/index.js');
  const phaseResults = await fetchPhaseResults({ redisUrl, prefix: options.prefix, runId, phaseCount: report.phases.length });
  if (phaseResults.every((result) => (result?.requestLog.length ?? 0) === 0)) {
    console.error(
      `run ${runId} kept no request log, so ${options.requests} is not written (submit a run with --requests or --requests-max to keep one)`,
    );
    return csv;
  }
  return { ...csv, requests: { file: options.requests, phaseResults } };
}

async function finishedReport(redisUrl: string, runId: string, options: ReportOptions): Promise<RunReport> {
  const { fetchRunReport } = await import('../../coordinator/distributed/index.js');
  const found = await fetchRunReport({ redisUrl, prefix: options.prefix, runId }).catch(async (error: unknown) => {
    // Not a distributed run (or its jobs expired): the history may have kept it.
    if (!(error instanceof RunNotFoundError)) throw error;
    const { report } = await keptReport(runId, options);
    if (!report) throw error;
    return { description: 'kept', report };
  });
  if (!found.report) throw new RunNotFinishedError(runId, found.description);
  return found.report;
}

/** Waits for the run to end, telling where it is whenever that changes; its report at the end. */
async function waitForReport(redisUrl: string, runId: string, options: ReportOptions): Promise<RunReport> {
  const { describeRunProgress, watchRun, WATCH_REDIS_DOWN_TIMEOUT_MS } = await import('../../coordinator/distributed/index.js');
  let told = '';
  return watchRun({
    redisUrl,
    prefix: options.prefix,
    runId,
    // A run outlives Redis restarts: wait at least a minute for Redis, or --redis-timeout if longer.
    redisDownTimeoutMs: Math.max(WATCH_REDIS_DOWN_TIMEOUT_MS, options.redisTimeout),
    onProgress: (progress) => {
      const words = describeRunProgress(progress);
      if (words !== told) console.error(`run ${runId}: ${(told = words)}`);
    },
  });
}

type PublishRunEnd = typeof import('../../coordinator/ci/publish-run-end');
// Loaded when used: it brings in xmlbuilder2 and undici, which every other command would pay for at launch.
const publishRunEnd: PublishRunEnd['publishRunEnd'] = (outputs) =>
  (require('../../coordinator/ci/publish-run-end') as PublishRunEnd).publishRunEnd(outputs);

export function reportCommand(setExitCode: SetExitCode): Command {
  return new Command('report')
    .description('write the reports of a distributed run; exit 0 or 1 as `run` does, 4 while the run has not finished (see --wait)')
    .argument('<runId>', 'the run id printed by `grym-perf run --redis`')
    .addOption(redisOption())
    .addOption(prefixOption())
    .addOption(redisTimeoutOption())
    .option('--out <dir>', 'directory for report.json, report.md and report.html', DEFAULT_OUT_DIR)
    .option('--csv <dir>', 'also write windows.csv and percentiles.csv there')
    .option(
      '--requests <file>',
      'also write the request log the run kept (submitted with --requests or --requests-max), one JSON line per request',
    )
    .addOption(historyOption())
    .addOption(historyRetentionOption().hideHelp())
    .option('--wait', 'wait until the run finishes, then write its reports (exits 3 if Redis stays away)')
    .option('--junit <file>', 'also write the verdict as JUnit XML there: a test suite per phase, a test case per criterion')
    .action(async (runIdArgument: string, options: ReportOptions) => {
      const runId = parseRunId(runIdArgument);
      const redisUrl = options.redis ? requireRedis(options.redis) : undefined;
      await ensureWritableOut(options.out);
      if (options.csv !== undefined) await ensureWritableOut(options.csv, '--csv');
      if (options.requests !== undefined) await ensureWritableFile(options.requests, '--requests');
      if (options.junit !== undefined) await ensureWritableFile(options.junit, '--junit');
      if (redisUrl === undefined) {
        // Without Redis: a run the local history kept (it has no request log).
        const kept = await requireKeptReport(runId, options);
        if (options.requests !== undefined) console.error(`the history keeps no request log, so ${options.requests} is not written`);
        const exitCode = await finishRun(kept, options.out, options.csv !== undefined ? { csvDir: options.csv } : {});
        await publishRunEnd({ report: kept, outDir: options.out, ...(options.junit !== undefined ? { junitFile: options.junit } : {}) });
        return setExitCode(exitCode);
      }
      const { ensureRedisReachable } = await import('../../shared/redis-connection.js');
      await ensureRedisReachable(redisUrl, options.redisTimeout);
      const report = options.wait ? await waitForReport(redisUrl, runId, options) : await finishedReport(redisUrl, runId, options);
      const exitCode = await finishRun(report, options.out, await exportsOf(redisUrl, runId, report, options));
      await publishRunEnd({ report, outDir: options.out, ...(options.junit !== undefined ? { junitFile: options.junit } : {}) });
      setExitCode(exitCode);
    });
}
