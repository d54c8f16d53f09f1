/**
 * Follows a submitted run until its aggregate job finishes, reporting progress from the phase and
 * shard jobs. It polls job state rather than relying only on the events stream, so a Redis restart
 * or a trimmed stream cannot make it miss the end; a Redis that stays away is reported, never
 * waited on forever.
 *
 * A run's state is read before its job: BullMQ stores a job's return value and moves it to
 * `completed` in one script, so a run seen completed has its report in the job read after. (Read
 * the other way round, a run that completed in between looked completed with a null report.)
 */
import { Job, Queue } from 'bullmq';
import { AggregationFailedError, GrymError, InternalError, RedisUnavailableError, RunNotFoundError } from '../../shared/errors';
import {
  phaseJobId,
  queueLayout,
  redactRedisError,
  redactRedisText,
  redactRedisUrl,
  runJobId,
  shardJobId,
} from '../../shared/queue-layout';
import { connectRedis, disconnectRedis, reportRedisErrors } from '../../shared/redis-connection';
import { totalsOfResult, type LiveTotals } from '../../shared/live-totals';
import type { RecentWindows } from '../../shared/window-series';
import type { RunReport } from '../../shared/run-report';
import type { ShardResult, StopReason } from '../../shared/shard-result';
import type { LiveCriteria } from '../metrics/live-criteria';
import { readPhaseOutcomes } from './read-phase-outcomes';

export interface RunProgress {
  state: string;
  phases: Array<{
    phaseIndex: number;
    name: string;
    state: string;
    shards: Array<{
      state: string;
      completed: number;
      errors: number;
      fraction: number;
      attempts: number;
      /** The worker process running it or that ran it, once one has reported. */
      worker?: string;
      recent?: RecentWindows;
      /** Everything it has measured so far: a running shard's latest report's, a done shard's result's. */
      totals?: LiveTotals;
      /** Why it stopped (or is stopping) before its planned end, once it has said. */
      stopped?: StopReason;
    }>;
    /** Its criteria judged so far on its shards' totals, when a follower adds them (`addLiveCriteria`). */
    criteria?: LiveCriteria;
  }>;
}

/** The three queues of a run, as `queueLayout` names them. */
export interface RunQueues {
  runs: Queue;
  phases: Queue;
  shards: Queue;
}

/** How long a watcher waits for a Redis that went away during a run (a restart) before giving up. */
export const WATCH_REDIS_DOWN_TIMEOUT_MS = 60_000;

export interface WatchRunOptions {
  redisUrl: string;
  prefix?: string;
  runId: string;
  pollMs?: number;
  /** Give up when Redis has been unreachable this long (default `WATCH_REDIS_DOWN_TIMEOUT_MS`). */
  redisDownTimeoutMs?: number;
  onProgress?: (progress: RunProgress) => void;
}

// A completed run whose report cannot be read this many times in a row is a bug, not a race.
const MAX_MISSING_REPORT_READS = 5;

type ShardProgressValue = {
  completed?: number;
  errors?: number;
  fraction?: number;
  worker?: string;
  recent?: RecentWindows;
  totals?: unknown;
  stopped?: unknown;
  /** The attempt that wrote it (`attemptsStarted` of the job then). */
  attempt?: number;
};

/** A stop as a shard wrote it in its progress or result (another version may have written it): only a well-formed one. */
function stopOf(value: unknown): StopReason | undefined {
  const stop = value as Partial<StopReason> | null | undefined;
  return typeof stop?.reason === 'string' && typeof stop.atMs === 'number' ? { reason: stop.reason, atMs: stop.atMs } : undefined;
}

/** Totals as a shard wrote them in its progress (another version may have written them): only well-formed ones. */
function totalsOf(value: unknown): LiveTotals | undefined {
  const totals = value as Partial<LiveTotals> | null | undefined;
  const histograms = totals?.histograms;
  const numbers = [totals?.atMs, totals?.ok, totals?.errors, totals?.outputTokens, totals?.inFlightMs];
  if (!histograms || numbers.some((number) => typeof number !== 'number')) return undefined;
  if ([histograms.e2eUs, histograms.ttftUs, histograms.itlUs].some((encoded) => typeof encoded !== 'string')) return undefined;
  return totals as LiveTotals;
}

/**
 * Totals of the attempt running now: a retried shard's job keeps its earlier attempt's progress
 * until the new attempt reports, so totals count only when the progress says it is this attempt's.
 */
function thisAttempts(totals: LiveTotals | undefined, progress: ShardProgressValue, job: Job | undefined): LiveTotals | undefined {
  return totals && job && progress.attempt === job.attemptsStarted ? totals : undefined;
}

type ShardState = RunProgress['phases'][number]['shards'][number];

/**
 * Shards that have finished, as last read: a finished shard job no longer changes, so a watcher
 * that keeps them reads each one's result (histograms, windows: tens of KiB) once, not at every poll.
 */
type FinishedShards = Map<string, ShardState>;

async function readShard(
  shards: Queue,
  runId: string,
  phaseIndex: number,
  shardIndex: number,
  finished?: FinishedShards,
): Promise<ShardState> {
  const id = shardJobId(runId, phaseIndex, shardIndex);
  const known = finished?.get(id);
  if (known) return known;
  const shard = await readShardNow(shards, id);
  if (DONE.has(shard.state)) finished?.set(id, shard);
  return shard;
}

async function readShardNow(shards: Queue, id: string): Promise<ShardState> {
  const [state, job] = await Promise.all([shards.getJobState(id), Job.fromId(shards, id)]);
  const progress = (job?.progress ?? {}) as ShardProgressValue;
  // Progress is sent at most once a second, so a finished shard's last report is behind: its result has the final counts.
  const result = state === 'completed' ? (job?.returnvalue as ShardResult | null | undefined) : undefined;
  const final = result?.requests ? { completed: result.requests.ok, errors: result.requests.errors, fraction: 1 } : undefined;
  const stopped = result ? stopOf(result.stopped) : stopOf(progress.stopped);
  const totals = result?.requests
    ? totalsOfResult(result)
    : state === 'active'
      ? thisAttempts(totalsOf(progress.totals), progress, job)
      : undefined;
  return {
    state: job ? state : 'pending',
    completed: final?.completed ?? progress.completed ?? 0,
    errors: final?.errors ?? progress.errors ?? 0,
    fraction: final?.fraction ?? progress.fraction ?? 0,
    attempts: job?.attemptsStarted ?? 0,
    ...(progress.worker !== undefined ? { worker: progress.worker } : {}),
    // Windows a running shard closed last: what live views draw (a finished shard's are in its result).
    ...(progress.recent && state === 'active' ? { recent: progress.recent } : {}),
    ...(totals ? { totals } : {}),
    ...(stopped ? { stopped } : {}),
  };
}

/**
 * A run's state, its aggregate job (undefined when there is no such run) and the progress of its
 * phases and shards. The reads of one poll go out together (ioredis pipelines them), so a poll
 * costs a few round trips whatever the number of phases.
 */
export async function readRunProgress(
  queues: RunQueues,
  runId: string,
  finished?: FinishedShards,
): Promise<{ job: Job | undefined; progress: RunProgress }> {
  // First the state, then the job: see the top of this file.
  const state = await queues.runs.getJobState(runJobId(runId));
  const job = await Job.fromId(queues.runs, runJobId(runId));
  if (!job) return { job, progress: { state: 'missing', phases: [] } };
  const planPhases = (job.data as { planInput?: { phases?: Array<{ name?: string; shards?: number }> } }).planInput?.phases ?? [];
  const phases = await Promise.all(
    planPhases.map(async (phase, phaseIndex) => {
      const [phaseState, shards] = await Promise.all([
        queues.phases.getJobState(phaseJobId(runId, phaseIndex)),
        Promise.all(
          Array.from({ length: phase.shards ?? 1 }, (_, shardIndex) => readShard(queues.shards, runId, phaseIndex, shardIndex, finished)),
        ),
      ]);
      return { phaseIndex, name: phase.name ?? `phase ${phaseIndex}`, state: phaseState === 'unknown' ? 'missing' : phaseState, shards };
    }),
  );
  return { job, progress: { state, phases } };
}

const DONE = new Set(['completed', 'failed']);
const NOT_TAKEN = new Set(['waiting', 'prioritized', 'delayed', 'waiting-children']);

/**
 * Where a run is, in words: "queued, waiting for a worker", "running phase 2 of 3 (cross-model)",
 * "aggregating its report", "finished" or "failed" (never a BullMQ state name).
 */
export function describeRunProgress(progress: RunProgress): string {
  if (progress.state === 'completed') return 'finished';
  if (progress.state === 'failed') return 'failed';
  if (progress.state === 'missing') return 'not in Redis';
  const current = progress.phases.find((phase) => !DONE.has(phase.state));
  if (!current) return 'aggregating its report';
  const started = progress.phases.some((phase) => DONE.has(phase.state)) || current.shards.some((shard) => shard.state !== 'pending');
  if (!started && NOT_TAKEN.has(current.state)) return 'queued, waiting for a worker';
  return `running phase ${current.phaseIndex + 1} of ${progress.phases.length} (${current.name})`;
}

/** The report of a completed run job, or undefined when its return value is not a report. */
function reportOf(job: Job): RunReport | undefined {
  const value = job.returnvalue as RunReport | null | undefined;
  return value && Array.isArray(value.phases) ? value : undefined;
}

/** The queues of a run on a connection that fails commands fast, with their errors kept quiet. */
function openRunQueues(redisUrl: string, prefix: string | undefined, name: string) {
  const layout = queueLayout(prefix);
  const connection = connectRedis(redisUrl, name, { failFast: true });
  const [runs, phases, shards] = [layout.runs, layout.phases, layout.shards].map((queueName) => {
    const queue = new Queue(queueName, { connection, prefix: layout.prefix });
    reportRedisErrors(queue, redisUrl); // failed commands say it, where they are awaited
    return queue;
  }) as [Queue, Queue, Queue];
  return {
    queues: { runs, phases, shards },
    close: async () => {
      for (const queue of [runs, phases, shards]) await queue.close().catch(() => undefined);
      disconnectRedis(connection);
    },
  };
}

/** Polls the run once: its report when it completed, undefined while it runs; throws when it cannot end well. */
async function pollRun(
  queues: RunQueues,
  options: WatchRunOptions,
  missingReads: { count: number },
  finished: FinishedShards,
): Promise<RunReport | undefined> {
  const { job, progress } = await readRunProgress(queues, options.runId, finished);
  if (!job) throw new RunNotFoundError(options.runId, redactRedisUrl(options.redisUrl));
  options.onProgress?.(progress);
  if (progress.state === 'failed')
    throw new AggregationFailedError(options.runId, redactRedisText(job.failedReason ?? '', options.redisUrl));
  if (progress.state !== 'completed') return undefined;
  const report = reportOf(job);
  if (report) return report;
  if (++missingReads.count >= MAX_MISSING_REPORT_READS) {
    throw new InternalError(`run ${options.runId} completed without a report (read ${missingReads.count} times)`);
  }
  return undefined;
}

/** Follows a run until it ends and returns its report; tolerates Redis being away for a while. */
export async function watchRun(options: WatchRunOptions): Promise<RunReport> {
  const { queues, close } = openRunQueues(options.redisUrl, options.prefix, 'grym-watch');
  const downTimeoutMs = options.redisDownTimeoutMs ?? WATCH_REDIS_DOWN_TIMEOUT_MS;
  const missingReads = { count: 0 };
  const finished: FinishedShards = new Map();
  let downSince: number | undefined;
  try {
    for (;;) {
      try {
        const report = await pollRun(queues, options, missingReads, finished);
        downSince = undefined;
        if (report) return report;
      } catch (error) {
        if (error instanceof GrymError) throw error;
        downSince ??= Date.now();
        if (Date.now() - downSince > downTimeoutMs) {
          throw new RedisUnavailableError(
            `Redis at ${redactRedisUrl(options.redisUrl)} unreachable for ${Math.round(downTimeoutMs / 1000)} s ` +
              `while watching run ${options.runId} (${redactRedisError(error, options.redisUrl)})`,
            `the run goes on without this CLI: fetch it later with grym-perf report ${options.runId}`,
            error,
          );
        }
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    }
  } finally {
    await close();
  }
}

/** A run's report when it has finished, otherwise where it is (`describeRunProgress`). */
export async function fetchRunReport(options: {
  redisUrl: string;
  prefix?: string;
  runId: string;
}): Promise<{ state: string; description: string; report?: RunReport }> {
  const { queues, close } = openRunQueues(options.redisUrl, options.prefix, 'grym-report');
  try {
    const { job, progress } = await readRunProgress(queues, options.runId);
    if (!job) throw new RunNotFoundError(options.runId, redactRedisUrl(options.redisUrl));
    if (progress.state === 'failed') {
      throw new AggregationFailedError(options.runId, redactRedisText(job.failedReason ?? '', options.redisUrl));
    }
    const report = progress.state === 'completed' ? reportOf(job) : undefined;
    if (progress.state === 'completed' && !report) throw new InternalError(`run ${options.runId} completed without a report`);
    return { state: progress.state, description: describeRunProgress(progress), ...(report ? { report } : {}) };
  } catch (error) {
    if (error instanceof GrymError) throw error;
    throw new RedisUnavailableError(
      `cannot read run ${options.runId} from Redis at ${redactRedisUrl(options.redisUrl)} (${redactRedisError(error, options.redisUrl)})`,
      undefined,
      error,
    );
  } finally {
    await close();
  }
}

/**
 * A finished run's merged phase results (histograms, windows, request log), as the control worker
 * stored them: what exports and the history keep beside the report. Null for a phase with none.
 */
export async function fetchPhaseResults(options: {
  redisUrl: string;
  prefix?: string;
  runId: string;
  phaseCount: number;
}): Promise<Array<ShardResult | null>> {
  const { queues, close } = openRunQueues(options.redisUrl, options.prefix, 'grym-results');
  try {
    return (await readPhaseOutcomes(queues.phases, options.runId, options.phaseCount)).map((outcome) => outcome?.merged ?? null);
  } catch (error) {
    throw new RedisUnavailableError(
      `cannot read the results of run ${options.runId} from Redis at ${redactRedisUrl(options.redisUrl)} (${redactRedisError(error, options.redisUrl)})`,
      undefined,
      error,
    );
  } finally {
    await close();
  }
}
