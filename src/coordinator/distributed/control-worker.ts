/**
 * The coordination side of a distributed run, run by every `grym-perf worker` and dashboard
 * process so that a run finishes even when the CLI that submitted it has gone:
 * - a phase job (its previous phase done) fans out its shard jobs as children, guards them while
 *   they run (abort conditions judged on all shards together, `guardPhase`), waits for them, then
 *   returns its own merged outcome (`phaseOutcome`);
 * - the run job (all phases done) reads each phase's outcome by its job id, builds the report
 *   (criteria judged on the merged results, never per shard), stores the `RunReport` as its
 *   return value and writes the Markdown summary into its job log for bull-board.
 */
import { Job, Queue, WaitingChildrenError, WaitingError, Worker } from 'bullmq';
import { hasAbortConditions } from '../../shared/abort-reason';
import { closeAll, once } from '../../shared/close-all';
import { DEFAULT_SHARD_ATTEMPTS, JOB_RETENTION_SECONDS } from '../../shared/defaults';
import { toErrorPayload } from '../../shared/errors';
import { phaseJobSchema, runJobSchema, shardJobSchema, type PhaseJob, type RunJob } from '../../shared/job-payloads';
import type { Phase } from '../../shared/phase-schema';
import { phaseControlKeys, queueLayout, redactRedisText, shardJobId, type QueueLayout } from '../../shared/queue-layout';
import { connectRedis, reportRedisErrors } from '../../shared/redis-connection';
import type { RunReport } from '../../shared/run-report';
import type { ShardResult } from '../../shared/shard-result';
import { renderMarkdownReport } from '../reports/markdown-report';
import { guardPhase } from './guard-phase';
import { phaseOutcome, type PhaseOutcome } from './phase-outcome';
import { readPhaseOutcomes } from './read-phase-outcomes';
import { runReportFromOutcomes } from './run-outcome';

export interface ControlWorkerOptions {
  redisUrl: string;
  prefix?: string;
  name: string;
  /** Attempts per shard job; a worker that dies does not use one up (the job stalls and reruns). */
  shardAttempts?: number;
  /**
   * Where the control worker tells what it does. Also told, once per change, when Redis becomes
   * unreachable and when it is back: give the same function to the shard worker's connections.
   */
  log?: (line: string) => void;
}

export interface ControlWorker {
  close(): Promise<void>;
}

/** Adds the phase's shard jobs as children of its phase job (idempotent: the ids are fixed). */
async function fanOut(job: Job, data: PhaseJob, shardQueue: Queue, options: ControlWorkerOptions): Promise<void> {
  await shardQueue.addBulk(
    data.shards.map((shard, shardIndex) => ({
      name: `${data.phaseName}#${shardIndex}`,
      data: shard,
      opts: {
        jobId: shardJobId(data.runId, data.phaseIndex, shardIndex),
        parent: { id: job.id as string, queue: job.queueQualifiedName },
        // A failed shard must not block the run: the phase records it and the run goes on.
        ignoreDependencyOnFailure: true,
        attempts: options.shardAttempts ?? DEFAULT_SHARD_ATTEMPTS,
        backoff: { type: 'fixed', delay: 1000 },
        removeOnComplete: { age: JOB_RETENTION_SECONDS },
      },
    })),
  );
}

/** The abort conditions of a phase, from its first shard job; undefined for a lone shard or a job this version cannot read. */
function guardedConditions(data: PhaseJob): Phase['abort'] | undefined {
  if (data.shards.length < 2) return undefined;
  const shard = shardJobSchema.safeParse(data.shards[0]);
  return shard.success && hasAbortConditions(shard.data.task.phase.abort) ? shard.data.task.phase.abort : undefined;
}

/** Phase jobs one control worker holds at once (each guarding a running phase, or merging one). */
const PHASE_JOBS_AT_ONCE = 64;

/** The shard jobs' results among a phase job's children (the previous phase is a child too). */
async function shardResultsOf(job: Job, layout: QueueLayout): Promise<ShardResult[]> {
  const shardKey = `${layout.prefix}:${layout.shards}:`;
  return Object.entries(await job.getChildrenValues())
    .filter(([key]) => key.startsWith(shardKey))
    .map(([, value]) => value as ShardResult);
}

/** Phases of a run, from the plan as written in its run job. */
const phaseCountOf = (data: RunJob) => (data.planInput as { phases?: unknown[] }).phases?.length ?? 0;

export async function startControlWorker(options: ControlWorkerOptions): Promise<ControlWorker> {
  const layout = queueLayout(options.prefix);
  const log = options.log ?? (() => undefined);
  const connection = connectRedis(options.redisUrl, `grym-control-${options.name}`, { log });
  const shardQueue = new Queue(layout.shards, { connection, prefix: layout.prefix });
  const phaseQueue = new Queue(layout.phases, { connection, prefix: layout.prefix });
  for (const queue of [shardQueue, phaseQueue]) reportRedisErrors(queue, options.redisUrl, log, `${queue.name} queue`);

  /**
   * A phase job: fans out its shards, guards them while they run (the phase's abort conditions
   * judged on all shards together, see `guardPhase`), then waits for them and merges their results.
   * Each step is written into the job's data first, so a job taken over by another control worker
   * (this one stopped or died) goes on where it was.
   */
  const processPhase = async (job: Job, token: string | undefined, signal?: AbortSignal): Promise<PhaseOutcome> => {
    const data = phaseJobSchema.parse(job.data);
    const say = (line: string) => log(`phase ${data.phaseName} of ${data.runId}: ${line}`);
    if (data.step === 'fan-out') {
      say(`starting ${data.shards.length} shard(s)`);
      await fanOut(job, data, shardQueue, options);
      await job.updateData({ ...data, step: 'guard' });
      data.step = 'guard';
    }
    const abort = guardedConditions(data);
    if (data.step === 'guard' && abort) {
      const { ended, stop } = await guardPhase({
        redis: connection,
        keys: phaseControlKeys(layout, data.runId, data.phaseIndex),
        abort,
        shardCount: data.shards.length,
        pendingShards: async () => (await job.getDependenciesCount({ unprocessed: true })).unprocessed ?? 0,
        ...(signal ? { signal } : {}),
      });
      if (ended === 'closing') {
        // Another control worker takes the guard on at once; the shards run on meanwhile.
        await job.moveToWait(token);
        say('guard handed on (this control worker is stopping)');
        throw new WaitingError();
      }
      if (stop) say(`stopped early: ${stop.reason}`);
    }
    if (data.step !== 'merge') await job.updateData({ ...data, step: 'merge' });
    if (await job.moveToWaitingChildren(token ?? '')) throw new WaitingChildrenError();
    const failures = Object.values(await job.getIgnoredChildrenFailures());
    const outcome = phaseOutcome({ ...data, shardCount: data.shards.length }, await shardResultsOf(job, layout), failures);
    say(outcome.error ? `failed (${outcome.error.message})` : 'merged');
    return outcome;
  };

  const processRun = async (job: Job): Promise<RunReport> => {
    const data = runJobSchema.parse(job.data);
    const report = runReportFromOutcomes(data, await readPhaseOutcomes(phaseQueue, data.runId, phaseCountOf(data)));
    for (const line of renderMarkdownReport(report).split('\n')) await job.log(line);
    log(`run ${data.runId}: ${report.passed ? 'PASSED' : 'FAILED'}`);
    return report;
  };

  const workerOptions = { connection, prefix: layout.prefix, concurrency: 8, name: `${options.name}-control` };
  // A phase job stays with its control worker while it guards its shards (waiting on Redis every 250 ms, little CPU):
  // room for many runs at once, so that one dashboard coordinating for `--no-aggregate` workers never queues a phase.
  const phaseWorker = new Worker(layout.phases, processPhase, { ...workerOptions, concurrency: PHASE_JOBS_AT_ONCE });
  const runWorker = new Worker(
    layout.runs,
    async (job: Job) => {
      try {
        return await processRun(job);
      } catch (error) {
        log(`run ${(job.data as { runId?: string }).runId ?? job.id}: aggregation failed: ${toErrorPayload(error).message}`);
        throw error;
      }
    },
    workerOptions,
  );
  for (const worker of [phaseWorker, runWorker]) {
    reportRedisErrors(worker, options.redisUrl, log, 'control worker error');
    worker.on('failed', (job, error) =>
      log(`${job?.queueName ?? 'job'} ${job?.id ?? '?'} failed: ${redactRedisText(error.message, options.redisUrl)}`),
    );
  }
  await Promise.all([phaseWorker.waitUntilReady(), runWorker.waitUntilReady()]);

  return {
    close: once(() =>
      closeAll([
        // Phase jobs being guarded are handed on to another control worker rather than waited for.
        () => phaseWorker.cancelAllJobs('the control worker is stopping'),
        () => phaseWorker.close(),
        () => runWorker.close(),
        () => shardQueue.close(),
        () => phaseQueue.close(),
        () => connection.quit(),
      ]),
    ),
  };
}
