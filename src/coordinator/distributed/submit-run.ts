/**
 * Submits a run as one BullMQ flow, added atomically: the run's aggregate job is the root, the last
 * phase its child, each phase the child of the phase after it, so phases run strictly in order
 * and every job waits for the one before it. Each phase job fans out its shards when it runs.
 */
import { FlowProducer, Queue, type FlowJob } from 'bullmq';
import { closeAll } from '../../shared/close-all';
import { DEFAULT_BARRIER_TIMEOUT_MS, DEFAULT_PREFIX, JOB_RETENTION_SECONDS, WORKER_WAIT_MS } from '../../shared/defaults';
import { GrymError, NoWorkersError, RedisUnavailableError } from '../../shared/errors';
import type { PhaseJobData, RunJobData, ShardJobData } from '../../shared/job-payloads';
import type { LoadedPlan } from '../../shared/parse-plan';
import { newRunId, parseRunId, phaseJobId, queueLayout, redactRedisError, redactRedisUrl, runJobId } from '../../shared/queue-layout';
import { connectRedis, reportRedisErrors } from '../../shared/redis-connection';
import type { ResolvedTarget } from '../../shared/resolved-target';
import { shardTasks, type ShardTaskOptions } from '../shard-tasks';

export interface SubmitRunOptions {
  redisUrl: string;
  prefix?: string;
  loaded: LoadedPlan;
  target: ResolvedTarget;
  runId?: string;
  /** How long shards wait for each other at a phase's start barrier. */
  barrierTimeoutMs?: number;
  /** How long to wait for a first worker before refusing to queue the run. */
  workerWaitMs?: number;
  /** What the shards are asked beyond the plan (a request log for `run --requests`). */
  tasks?: ShardTaskOptions;
}

const KEEP = { age: JOB_RETENTION_SECONDS };

/** Builds the flow of a run: a pure function, so its shape can be tested without Redis. */
export function buildRunFlow(options: SubmitRunOptions & { runId: string }): FlowJob {
  const { loaded, runId } = options;
  const layout = queueLayout(options.prefix);
  let chain: FlowJob | undefined;
  loaded.plan.phases.forEach((phase, phaseIndex) => {
    const shards = shardTasks(loaded, phaseIndex, options.target, runId, options.tasks).map((task): ShardJobData => ({
      type: 'shard',
      task,
      barrierTimeoutMs: options.barrierTimeoutMs ?? DEFAULT_BARRIER_TIMEOUT_MS,
    }));
    const data: PhaseJobData = { type: 'phase', runId, phaseIndex, phaseName: phase.name, shards };
    chain = {
      name: phase.name,
      queueName: layout.phases,
      data,
      // A phase that cannot even fan out must not block the run forever: the aggregate reports it.
      opts: { jobId: phaseJobId(runId, phaseIndex), attempts: 3, ignoreDependencyOnFailure: true, removeOnComplete: KEEP },
      children: chain ? [chain] : [],
    };
  });
  const data: RunJobData = {
    type: 'run',
    runId,
    planSource: loaded.source,
    planInput: loaded.input,
    submittedAt: new Date().toISOString(),
  };
  return {
    name: loaded.plan.name,
    queueName: layout.runs,
    data,
    opts: { jobId: runJobId(runId), attempts: 3, removeOnComplete: KEEP, removeOnFail: KEEP },
    children: chain ? [chain] : [],
  };
}

/** Counts the worker processes listening on the shards queue, waiting up to `waitMs` for one. */
async function waitForWorkers(queue: Queue, waitMs: number): Promise<number> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const count = await queue.getWorkersCount();
    if (count > 0 || Date.now() >= deadline) return count;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Queues the run and returns its id; refuses (queuing nothing) when no worker is listening. */
export async function submitRun(options: SubmitRunOptions): Promise<{ runId: string; workers: number }> {
  const layout = queueLayout(options.prefix);
  const runId = options.runId === undefined ? newRunId(options.loaded.plan.name) : parseRunId(options.runId);
  // Fails fast: a Redis that goes away now is reported (exit 3), not waited on forever.
  const connection = connectRedis(options.redisUrl, 'grym-submit', { failFast: true });
  const shardQueue = new Queue(layout.shards, { connection, prefix: layout.prefix });
  const flows = new FlowProducer({ connection, prefix: layout.prefix });
  for (const emitter of [shardQueue, flows]) reportRedisErrors(emitter, options.redisUrl);
  try {
    const workers = await waitForWorkers(shardQueue, options.workerWaitMs ?? WORKER_WAIT_MS);
    if (workers === 0) throw new NoWorkersError(options.prefix ?? DEFAULT_PREFIX);
    await flows.add(buildRunFlow({ ...options, runId }));
    return { runId, workers };
  } catch (error) {
    if (error instanceof GrymError) throw error;
    throw new RedisUnavailableError(
      `cannot submit run ${runId} to Redis at ${redactRedisUrl(options.redisUrl)} (${redactRedisError(error, options.redisUrl)})`,
      'check that Redis runs there; submitting the same --run-id again never runs it twice',
      error,
    );
  } finally {
    await closeAll([() => flows.close(), () => shardQueue.close(), () => connection.quit()]);
  }
}
