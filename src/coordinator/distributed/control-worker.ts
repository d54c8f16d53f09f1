/**
 * The coordination side of a distributed run, run by every `grym-perf worker` and dashboard
 * process so that a run finishes even when the CLI that submitted it has gone:
 * - a phase job (its previous phase done) fans out its shard jobs as children, waits for them,
 *   then merges their results exactly (histograms added) and passes all outcomes so far on;
 * - the run job (all phases done) computes metrics from the merged results, evaluates every
 *   criterion on them (never per shard), stores the `RunReport` as its return value and writes the
 *   Markdown summary into its job log for bull-board.
 */
import { Queue, WaitingChildrenError, Worker, type Job } from 'bullmq';
import { toErrorPayload } from '../../shared/errors';
import { phaseJobSchema, runJobSchema } from '../../shared/job-payloads';
import { validatePlan } from '../../shared/parse-plan';
import { queueLayout, shardJobId } from '../../shared/queue-layout';
import { connectRedis } from '../../shared/redis-connection';
import { mergeShardResults, type ShardResult } from '../../shared/shard-result';
import type { RunReport } from '../../shared/run-report';
import { buildPhaseReport, buildRunReport } from '../build-run-report';
import { renderMarkdownReport } from '../write-reports';
import type { PhaseChainValue, PhaseOutcome } from './phase-outcome';

export interface ControlWorkerOptions {
  redisUrl: string;
  prefix?: string;
  name: string;
  /** Attempts per shard job; a worker that dies does not use one up (the job stalls and reruns). */
  shardAttempts?: number;
  log?: (line: string) => void;
}

export interface ControlWorker {
  close(): Promise<void>;
}

function isChainValue(value: unknown): value is PhaseChainValue {
  return typeof value === 'object' && value !== null && Array.isArray((value as PhaseChainValue).phases);
}

function isShardResult(value: unknown): value is ShardResult {
  return typeof value === 'object' && value !== null && 'histograms' in value && 'requests' in value;
}

export async function startControlWorker(options: ControlWorkerOptions): Promise<ControlWorker> {
  const layout = queueLayout(options.prefix);
  const log = options.log ?? (() => undefined);
  const connection = connectRedis(options.redisUrl, `grym-control-${options.name}`);
  const shardQueue = new Queue(layout.shards, { connection, prefix: layout.prefix });

  const processPhase = async (job: Job, token?: string): Promise<PhaseChainValue> => {
    const data = phaseJobSchema.parse(job.data);
    if (data.step === 'fan-out') {
      log(`phase ${data.phaseName} of ${data.runId}: starting ${data.shards.length} shard(s)`);
      await shardQueue.addBulk(
        data.shards.map((shard, shardIndex) => ({
          name: `${data.phaseName}#${shardIndex}`,
          data: shard,
          opts: {
            jobId: shardJobId(data.runId, data.phaseIndex, shardIndex),
            parent: { id: job.id as string, queue: job.queueQualifiedName },
            // A failed shard must not block the run: the phase records it and the run goes on.
            ignoreDependencyOnFailure: true,
            attempts: options.shardAttempts ?? 2,
            backoff: { type: 'fixed', delay: 1000 },
            removeOnComplete: { age: 7 * 24 * 3600 },
          },
        })),
      );
      await job.updateData({ ...(job.data as object), step: 'merge' });
      if (await job.moveToWaitingChildren(token ?? '')) throw new WaitingChildrenError();
    }

    const values = Object.values(await job.getChildrenValues());
    const previous = values.find(isChainValue)?.phases ?? [];
    const shardResults = values.filter(isShardResult);
    const failures = Object.values(await job.getIgnoredChildrenFailures());
    let outcome: PhaseOutcome;
    if (failures.length > 0 || shardResults.length < data.shards.length) {
      const reasons = failures.length > 0 ? failures.join('; ') : 'a shard returned no result';
      outcome = {
        phaseIndex: data.phaseIndex,
        merged: shardResults.length > 0 ? mergeShardResults(shardResults) : null,
        error: { code: 'GRYM_ERR_SHARD_FAILED', message: `${failures.length || data.shards.length - shardResults.length} of ${data.shards.length} shard(s) of phase "${data.phaseName}" failed: ${reasons}` },
      };
    } else {
      outcome = { phaseIndex: data.phaseIndex, merged: mergeShardResults(shardResults), error: null };
    }
    log(`phase ${data.phaseName} of ${data.runId}: ${outcome.error ? `failed (${outcome.error.message})` : 'merged'}`);
    return { phases: [...previous, outcome] };
  };

  const processRun = async (job: Job): Promise<RunReport> => {
    const data = runJobSchema.parse(job.data);
    const plan = validatePlan(data.planInput, data.planSource);
    const chain = Object.values(await job.getChildrenValues()).find(isChainValue);
    const outcomes = chain?.phases ?? [];
    const report = buildRunReport({
      runId: data.runId,
      plan,
      source: data.planSource,
      mode: 'distributed',
      startedAt: new Date(data.submittedAt),
      finishedAt: new Date(),
      phases: plan.phases.map((phase, index) => {
        const outcome = outcomes.find((candidate) => candidate.phaseIndex === index);
        return buildPhaseReport({ phase, merged: outcome?.merged ?? null, error: outcome?.error ?? (outcome ? null : { code: 'GRYM_ERR_SHARD_FAILED', message: 'phase did not run' }) });
      }),
    });
    for (const line of renderMarkdownReport(report).split('\n')) await job.log(line);
    log(`run ${data.runId}: ${report.passed ? 'PASSED' : 'FAILED'}`);
    return report;
  };

  const workerOptions = { connection, prefix: layout.prefix, concurrency: 8, name: `${options.name}-control` };
  const phaseWorker = new Worker(layout.phases, processPhase, workerOptions);
  const runWorker = new Worker(layout.runs, async (job: Job) => {
    try {
      return await processRun(job);
    } catch (error) {
      log(`run ${job.id}: aggregation failed: ${toErrorPayload(error).message}`);
      throw error;
    }
  }, workerOptions);
  for (const worker of [phaseWorker, runWorker]) {
    worker.on('error', (error) => log(`control worker error: ${error.message}`));
    worker.on('failed', (job, error) => log(`${job?.queueName ?? 'job'} ${job?.id ?? '?'} failed: ${error.message}`));
  }
  await Promise.all([phaseWorker.waitUntilReady(), runWorker.waitUntilReady()]);

  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        for (const step of [() => phaseWorker.close(), () => runWorker.close(), () => shardQueue.close(), () => connection.quit()]) {
          try {
            await step();
          } catch {
            // every step runs even when one fails
          }
        }
      })();
      return closing;
    },
  };
}
