/**
 * `grym-perf worker`: a BullMQ worker on the `shards` queue that runs each shard in this process's
 * Piscina pool. A worker that dies mid-shard loses only that attempt: its lock expires, BullMQ moves
 * the job back to wait, another worker runs it again, and the result records the attempts. Results
 * exist only once a shard finishes, so an abandoned attempt counts no request.
 *
 * Stopping: `close()` finishes the running shards; `close(true)` hands them back at once: their
 * threads are terminated and their jobs go back to wait, where another worker takes them without
 * the wait for a lock to expire and without using up one of the job's attempts.
 */
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Piscina } from 'piscina';
import { hasAbortConditions } from '../../shared/abort-reason';
import { closeAll, once } from '../../shared/close-all';
import { describeIssues } from '../../shared/describe-issues';
import { DEFAULT_LOCK_DURATION_MS } from '../../shared/defaults';
import { BarrierTimeoutError, GrymError, toErrorPayload } from '../../shared/errors';
import { shardJobSchema } from '../../shared/job-payloads';
import { phaseControlKeys, queueLayout, type QueueLayout } from '../../shared/queue-layout';
import { connectRedis, reportRedisErrors } from '../../shared/redis-connection';
import type { ShardMetricsFeed } from '../../shared/monitoring/shard-metrics-feed';
import type { ShardProgress, ShardTask } from '../../shared/shard-task';
import type { ShardResult } from '../../shared/shard-result';
import { runShard } from '../run-shard';
import { createWorkerPool, defaultThreads, warmWorkerPool } from '../worker-pool';
import { subscribeBarrierChannel, type BarrierChannel } from './barrier-channel';
import { redisPhaseControl } from './redis-phase-control';
import { waitAtStartBarrier } from './start-barrier';
import { defaultWorkerName } from './worker-name';
import { admitShardTask, type WorkerPolicy } from './worker-policy';

export interface ShardWorkerOptions {
  redisUrl: string;
  prefix?: string;
  /** Shards this process runs at once. */
  concurrency?: number;
  /** Piscina threads shared by those shards (at least one per shard), each shard an equal share. */
  threads?: number;
  /** Recorded in results; the host name and pid by default. Must match `WORKER_NAME_PATTERN`. */
  name?: string;
  /** How long a job's lock lives without renewal: the time to notice a dead worker. */
  lockDurationMs?: number;
  /** What plans may use on this worker (see `createWorkerPolicy`); by default no variable and no module. */
  policy?: WorkerPolicy;
  log?: (line: string) => void;
  /** Fed with each shard's progress and result (`worker --metrics-port`). */
  metrics?: ShardMetricsFeed;
}

export interface ShardWorker {
  name: string;
  /** Stops taking jobs and finishes the running ones (`force`: hands them back at once). Idempotent. */
  close(force?: boolean): Promise<void>;
}

// Progress doubles as a heartbeat that bull-board shows; the events stream is trimmed, so at most 1/s.
const PROGRESS_INTERVAL_MS = 1000;
/** How long a forced close waits for the running shards to go back to wait: a thread termination and one Redis call. */
const HAND_BACK_WAIT_MS = 5000;
const NO_POLICY: WorkerPolicy = { allowEnv: new Set() };

/** A progress callback that updates the job at most once per PROGRESS_INTERVAL_MS, and at once with the shard's stop. */
function throttledProgress(job: Job, workerName: string): (progress: ShardProgress) => void {
  let lastProgressMs = 0;
  let stopSent = false;
  return (progress) => {
    const now = Date.now();
    // A stop goes out at once: whoever follows the run says the phase is stopping before it has ended.
    const newStop = progress.stopped !== undefined && !stopSent;
    if (!newStop && now - lastProgressMs < PROGRESS_INTERVAL_MS) return;
    lastProgressMs = now;
    stopSent ||= newStop;
    // The attempt: a retried job keeps the earlier attempt's progress until this one reports.
    void job.updateProgress({ ...progress, worker: workerName, heartbeatAt: now, attempt: job.attemptsStarted }).catch(() => undefined);
  };
}

/**
 * The shard the job holds, as this worker's policy lets it run. A job that does not parse, or that
 * the policy refuses, fails for good: no retry would change it.
 */
async function admittedTask(job: Job, policy: WorkerPolicy, workerName: string): Promise<{ task: ShardTask; barrierTimeoutMs: number }> {
  const parsed = shardJobSchema.safeParse(job.data);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error, job.data, shardJobSchema).join('; ');
    throw new UnrecoverableError(`shard job ${job.id} does not validate (was it queued by another grym-perf version?): ${problems}`);
  }
  const { task, barrierTimeoutMs } = parsed.data;
  try {
    return { task: await admitShardTask(task, policy, workerName), barrierTimeoutMs };
  } catch (error) {
    throw error instanceof GrymError ? new UnrecoverableError(error.message) : error;
  }
}

/** What a running shard needs from its worker. */
interface ShardContext {
  layout: QueueLayout;
  name: string;
  policy: WorkerPolicy;
  pool: Piscina;
  /** Threads one shard may use: the pool's share of each of the shards that run at once. */
  slicesPerShard: number;
  /** For the start barrier and the phase's control: small commands that must not wait behind BullMQ's. */
  phaseRedis: Redis;
  /** The worker's subscription to the barrier channel, where its waiting shards hear their phase's start. */
  barrierChannel: BarrierChannel;
  log: (line: string) => void;
  metrics: ShardMetricsFeed | undefined;
}

/** One attempt at the job's shard: admitted by the policy, started with the phase's other shards, run in the pool. */
async function runAdmitted(context: ShardContext, job: Job, signal: AbortSignal | undefined): Promise<ShardResult> {
  const { name, log } = context;
  const { task, barrierTimeoutMs } = await admittedTask(job, context.policy, name);
  log(`shard ${job.id}: attempt ${job.attemptsStarted}, waiting at the start barrier`);
  const { startAtMs, clockOffsetMs, roundTripMs } = await waitAtStartBarrier(context.phaseRedis, context.barrierChannel, {
    layout: context.layout,
    runId: task.runId,
    phaseIndex: task.phaseIndex,
    phaseName: task.phase.name,
    shardIndex: task.shardIndex,
    shardCount: task.shardCount,
    timeoutMs: barrierTimeoutMs,
    signal,
  }).catch((error: unknown) => {
    // Too few workers took the phase's shards: waiting once more rarely finds the missing one.
    throw error instanceof BarrierTimeoutError ? new UnrecoverableError(error.message) : error;
  });
  log(`shard ${job.id}: starting; this worker's clock is ${-clockOffsetMs} ms off Redis TIME (±${(roundTripMs / 2).toFixed(1)} ms)`);
  const toRedis = throttledProgress(job, name);
  const shard = { run: task.runId, phase: task.phase.name, phaseIndex: task.phaseIndex, shardIndex: task.shardIndex, worker: name };
  context.metrics?.shardStarted(shard);
  const onProgress = (progress: ShardProgress) => {
    toRedis(progress);
    context.metrics?.progress(shard, progress);
  };
  // A sharded phase is judged and stopped as one (the phase job's guard judges all shards' tallies); a lone shard judges itself.
  const control =
    task.shardCount > 1 && hasAbortConditions(task.phase.abort)
      ? redisPhaseControl(context.phaseRedis, phaseControlKeys(context.layout, task.runId, task.phaseIndex), task.shardIndex)
      : undefined;
  const options = {
    startAtMs,
    clockOffsetMs,
    workerName: name,
    onProgress,
    maxSlices: context.slicesPerShard,
    signal,
    ...(control ? { control } : {}),
  };
  const result = await runShard(task, context.pool, options).catch((error: unknown) => {
    context.metrics?.shardEnded(shard, null);
    throw error;
  });
  context.metrics?.shardEnded(shard, result);
  log(
    `shard ${job.id}: done, ${result.requests.ok} ok, ${result.requests.errors} errors` +
      (result.stopped ? `; stopped early: ${result.stopped.reason}` : ''),
  );
  return { ...result, shards: result.shards.map((shard) => ({ ...shard, attempts: job.attemptsStarted })) };
}

/**
 * The BullMQ processor. Each attempt is kept in `running` until it settles; when the worker hands
 * it back (its signal aborted), the job goes back to wait instead of failing.
 */
function handingBackProcessor(context: ShardContext, running: Set<Promise<unknown>>) {
  const processOrHandBack = async (job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<ShardResult> => {
    try {
      return await runAdmitted(context, job, signal);
    } catch (error) {
      if (!signal?.aborted) throw error;
      // To wait, not failed: another worker runs it now, and no attempt is used up.
      await job
        .moveToWait(token)
        .catch((moveError: unknown) => context.log(`shard ${job.id}: could not hand back: ${toErrorPayload(moveError).message}`));
      context.log(`shard ${job.id}: handed back`);
      throw new WaitingError();
    }
  };
  // Three parameters, so that BullMQ passes the signal that `cancelAllJobs` aborts (it checks the arity).
  return (job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<ShardResult> => {
    const processing = processOrHandBack(job, token, signal);
    running.add(processing);
    void processing.catch(() => undefined).finally(() => running.delete(processing));
    return processing;
  };
}

/**
 * `ShardWorker.close`: graceful, then forced when asked again with `force`. BullMQ's own
 * `close(true)` would reuse the pending graceful close and wait for the shards, so a forced close
 * aborts them instead and waits (bounded) until they have gone back to wait; `cleanup` runs after.
 */
function closer(worker: Worker, running: Set<Promise<unknown>>, cleanup: Array<() => unknown>): ShardWorker['close'] {
  let force = false;
  let markForced: () => void = () => undefined;
  const forcedNow = new Promise<void>((resolve) => (markForced = resolve));
  const closeWorker = async () => {
    // Called first, so that BullMQ takes no new job (and not the one handed back) from here on.
    const closing = worker.close();
    await Promise.race([closing, forcedNow]);
    if (!force) return;
    worker.cancelAllJobs('the worker is stopping');
    await withinMs(Promise.allSettled([...running]), HAND_BACK_WAIT_MS);
    await withinMs(closing, HAND_BACK_WAIT_MS);
  };
  const close = once(() => closeAll([closeWorker, ...cleanup]));
  return (forceNow = false) => {
    if (forceNow) {
      force = true;
      markForced();
    }
    return close();
  };
}

export async function startShardWorker(options: ShardWorkerOptions): Promise<ShardWorker> {
  const layout = queueLayout(options.prefix);
  const name = options.name ?? defaultWorkerName();
  const log = options.log ?? (() => undefined);
  const concurrency = options.concurrency ?? 1;
  // At least a thread per shard that runs at once, each shard its share: a shard whose threads the pool had to
  // start after the barrier would begin seconds after its siblings (measured: 8-11 s with 8 workers on 2 cores).
  const threads = Math.max(options.threads ?? defaultThreads(), concurrency);
  const slicesPerShard = Math.max(1, Math.floor(threads / concurrency));
  const pool = createWorkerPool({ threads });
  // Load the thread module now, so that a shard's start barrier is not followed by a cold start.
  await warmWorkerPool(pool, threads);
  // The connections share `log`: an outage is said once, and once more when Redis is back.
  const connection = connectRedis(options.redisUrl, `grym-worker-${name}`, { log });
  const phaseRedis = connectRedis(options.redisUrl, `grym-worker-${name}-phase`, { log });
  // Subscribed once for the worker's life: a shard that waits at the barrier opens and subscribes nothing.
  const barrierChannel = subscribeBarrierChannel(connectRedis(options.redisUrl, `grym-worker-${name}-barrier`, { log }), layout);
  const lockDuration = options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS;
  const context: ShardContext = {
    layout,
    name,
    policy: options.policy ?? NO_POLICY,
    pool,
    slicesPerShard,
    phaseRedis,
    barrierChannel,
    log,
    metrics: options.metrics,
  };
  const running = new Set<Promise<unknown>>();

  const worker = new Worker(layout.shards, handingBackProcessor(context, running), {
    connection,
    prefix: layout.prefix,
    concurrency,
    name,
    lockDuration,
    stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
  });
  worker.on('failed', (job, error) => log(`shard ${job?.id ?? '?'} failed: ${toErrorPayload(error).message}`));
  reportRedisErrors(worker, options.redisUrl, log, 'worker error');
  await Promise.all([worker.waitUntilReady(), barrierChannel.ready]);
  return {
    name,
    close: closer(worker, running, [() => pool.destroy(), () => barrierChannel.close(), () => phaseRedis.quit(), () => connection.quit()]),
  };
}

/** Waits for `promise`, or `ms` at most: a stop must not hang on a shard that does not let go. */
function withinMs(promise: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}
