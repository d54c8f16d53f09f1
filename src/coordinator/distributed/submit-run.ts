/**
 * Submits a run as one BullMQ flow, added atomically: the run's aggregate job is the root, the last
 * phase its child, each phase the child of the phase after it, so phases run strictly in order
 * and every job waits for the one before it. Each phase job fans out its shards when it runs.
 */
import { FlowProducer, Queue, type FlowJob } from 'bullmq';
import { GrymError } from '../../shared/errors';
import type { ShardJobInput } from '../../shared/job-payloads';
import type { Plan } from '../../shared/plan-schema';
import { newRunId, phaseJobId, queueLayout, runJobId } from '../../shared/queue-layout';
import { connectRedis } from '../../shared/redis-connection';
import type { ResolvedTarget } from '../../shared/shard-task';
import { phaseToTasks } from '../plan-to-tasks';

export interface SubmitRunOptions {
  redisUrl: string;
  prefix?: string;
  plan: Plan;
  /** The plan as written: phases travel in this form and workers parse them again. */
  planInput: unknown;
  planSource: string;
  target: ResolvedTarget;
  runId?: string;
  /** How long shards wait for each other at a phase's start barrier. */
  barrierTimeoutMs?: number;
  /** How long to wait for a first worker before refusing to queue the run. */
  workerWaitMs?: number;
}

const KEEP = { age: 30 * 24 * 3600 };

/** Builds the flow of a run: a pure function, so its shape can be tested without Redis. */
export function buildRunFlow(options: SubmitRunOptions & { runId: string }): FlowJob {
  const layout = queueLayout(options.prefix);
  const phasesInput = (options.planInput as { phases: unknown[] }).phases;
  let chain: FlowJob | undefined;
  options.plan.phases.forEach((phase, phaseIndex) => {
    const shards: ShardJobInput[] = phaseToTasks(options.plan, phaseIndex, options.target, options.runId, 0).map((task) => ({
      type: 'shard',
      runId: task.runId,
      planName: task.planName,
      seed: task.seed,
      phaseIndex,
      phaseInput: phasesInput[phaseIndex],
      target: task.target,
      shardIndex: task.shardIndex,
      shardCount: task.shardCount,
      concurrency: task.concurrency,
      ...(task.requests === undefined ? {} : { requests: task.requests }),
      barrierTimeoutMs: options.barrierTimeoutMs ?? 30_000,
    }));
    const job: FlowJob = {
      name: phase.name,
      queueName: layout.phases,
      data: { type: 'phase', runId: options.runId, phaseIndex, phaseName: phase.name, shards },
      // A phase that cannot even fan out must not block the run forever: the aggregate reports it.
      opts: { jobId: phaseJobId(options.runId, phaseIndex), attempts: 3, ignoreDependencyOnFailure: true, removeOnComplete: KEEP },
      children: chain ? [chain] : [],
    };
    chain = job;
  });
  return {
    name: options.plan.name,
    queueName: layout.runs,
    data: { type: 'run', runId: options.runId, planSource: options.planSource, planInput: options.planInput, submittedAt: new Date().toISOString() },
    opts: { jobId: runJobId(options.runId), attempts: 3, removeOnComplete: KEEP, removeOnFail: KEEP },
    children: chain ? [chain] : [],
  };
}

/** Counts the worker processes listening on the shards queue, waiting up to `waitMs` for one. */
export async function waitForWorkers(queue: Queue, waitMs: number): Promise<number> {
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
  const connection = connectRedis(options.redisUrl, 'grym-submit');
  const shardQueue = new Queue(layout.shards, { connection, prefix: layout.prefix });
  const flows = new FlowProducer({ connection, prefix: layout.prefix });
  try {
    const workers = await waitForWorkers(shardQueue, options.workerWaitMs ?? 5000);
    if (workers === 0) {
      throw new GrymError(
        'GRYM_ERR_NO_WORKERS',
        `no grym-perf worker is listening on this Redis (prefix "${options.prefix ?? 'grym'}"); nothing was queued. Start one with: grym-perf worker --redis <url>`,
      );
    }
    const runId = options.runId ?? newRunId(options.plan.name);
    await flows.add(buildRunFlow({ ...options, runId }));
    return { runId, workers };
  } finally {
    await flows.close().catch(() => undefined);
    await shardQueue.close().catch(() => undefined);
    await connection.quit().catch(() => undefined);
  }
}
