/**
 * Follows a submitted run until its aggregate job finishes, reporting progress from the shard
 * jobs. It polls job state rather than relying only on the events stream, so a Redis restart or a
 * trimmed stream cannot make it miss the end; a Redis that stays away is reported, never waited
 * on forever.
 */
import { Job, Queue } from 'bullmq';
import IORedis from 'ioredis';
import { GrymError } from '../../shared/errors';
import { queueLayout, redactRedisUrl, shardJobId } from '../../shared/queue-layout';
import type { RunReport } from '../../shared/run-report';

export interface RunProgress {
  state: string;
  phases: Array<{ phaseIndex: number; name: string; state: string; shards: Array<{ state: string; completed: number; errors: number; fraction: number; attempts: number }> }>;
}

export interface WatchRunOptions {
  redisUrl: string;
  prefix?: string;
  runId: string;
  pollMs?: number;
  /** Give up when Redis has been unreachable this long. */
  redisDownTimeoutMs?: number;
  onProgress?: (progress: RunProgress) => void;
}

/** A connection that fails commands fast while Redis is away, so the watcher can tell and retry. */
function watcherConnection(url: string) {
  return new IORedis(url, { maxRetriesPerRequest: 1, connectionName: 'grym-watch', retryStrategy: (attempt) => Math.min(100 * attempt, 1000), lazyConnect: false });
}

async function readRunProgress(runs: Queue, phases: Queue, shards: Queue, runId: string): Promise<{ job: Job | undefined; progress: RunProgress }> {
  const job = await Job.fromId(runs, runId);
  if (!job) return { job, progress: { state: 'missing', phases: [] } };
  const phaseNames = ((job.data as { planInput?: { phases?: Array<{ name?: string; shards?: number }> } }).planInput?.phases ?? []);
  const phaseProgress: RunProgress['phases'] = [];
  for (const [phaseIndex, phase] of phaseNames.entries()) {
    const phaseJob = await Job.fromId(phases, `${runId}.p${phaseIndex}`);
    const shardStates = [];
    for (let shardIndex = 0; shardIndex < (phase.shards ?? 1); shardIndex++) {
      const shardJob = await Job.fromId(shards, shardJobId(runId, phaseIndex, shardIndex));
      const progress = (shardJob?.progress ?? {}) as { completed?: number; errors?: number; fraction?: number };
      shardStates.push({
        state: shardJob ? await shardJob.getState() : 'pending',
        completed: progress.completed ?? 0,
        errors: progress.errors ?? 0,
        fraction: progress.fraction ?? 0,
        attempts: shardJob?.attemptsStarted ?? 0,
      });
    }
    phaseProgress.push({ phaseIndex, name: phase.name ?? `phase ${phaseIndex}`, state: phaseJob ? await phaseJob.getState() : 'missing', shards: shardStates });
  }
  return { job, progress: { state: await job.getState(), phases: phaseProgress } };
}

export async function watchRun(options: WatchRunOptions): Promise<RunReport> {
  const layout = queueLayout(options.prefix);
  const connection = watcherConnection(options.redisUrl);
  connection.on('error', () => undefined); // reported through failed commands below
  const queues = [layout.runs, layout.phases, layout.shards].map((name) => new Queue(name, { connection, prefix: layout.prefix }));
  const [runs, phases, shards] = queues as [Queue, Queue, Queue];
  const downTimeoutMs = options.redisDownTimeoutMs ?? 60_000;
  let downSince: number | undefined;
  try {
    for (;;) {
      try {
        const { job, progress } = await readRunProgress(runs, phases, shards, options.runId);
        downSince = undefined;
        if (!job) {
          throw new GrymError('GRYM_ERR_RUN_NOT_FOUND', `run ${options.runId} is not in Redis at ${redactRedisUrl(options.redisUrl)} (wrong --prefix, or Redis lost its data: was it restarted without persistence?)`);
        }
        options.onProgress?.(progress);
        if (progress.state === 'completed') return job.returnvalue as RunReport;
        if (progress.state === 'failed') {
          throw new GrymError('GRYM_ERR_SHARD_FAILED', `run ${options.runId} failed to aggregate: ${job.failedReason}`);
        }
      } catch (error) {
        if (error instanceof GrymError) throw error;
        downSince ??= Date.now();
        if (Date.now() - downSince > downTimeoutMs) {
          throw new GrymError('GRYM_ERR_REDIS_UNAVAILABLE', `Redis at ${redactRedisUrl(options.redisUrl)} unreachable for ${Math.round(downTimeoutMs / 1000)} s while watching run ${options.runId}; the run goes on without this CLI: fetch it later with grym-perf report ${options.runId}`, { cause: error });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    }
  } finally {
    for (const queue of queues) await queue.close().catch(() => undefined);
    connection.disconnect();
  }
}

/** A finished run's report, or the state it is in. */
export async function fetchRunReport(options: { redisUrl: string; prefix?: string; runId: string }): Promise<{ state: string; report?: RunReport }> {
  const layout = queueLayout(options.prefix);
  const connection = watcherConnection(options.redisUrl);
  connection.on('error', () => undefined);
  const runs = new Queue(layout.runs, { connection, prefix: layout.prefix });
  try {
    const job = await Job.fromId(runs, options.runId);
    if (!job) throw new GrymError('GRYM_ERR_RUN_NOT_FOUND', `run ${options.runId} is not in Redis at ${redactRedisUrl(options.redisUrl)} (check the id and --prefix)`);
    const state = await job.getState();
    return state === 'completed' ? { state, report: job.returnvalue as RunReport } : { state };
  } catch (error) {
    if (error instanceof GrymError) throw error;
    throw new GrymError('GRYM_ERR_REDIS_UNAVAILABLE', `cannot read run ${options.runId} from Redis at ${redactRedisUrl(options.redisUrl)}: ${(error as Error).message}`, { cause: error });
  } finally {
    await runs.close().catch(() => undefined);
    connection.disconnect();
  }
}
