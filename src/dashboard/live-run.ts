/**
 * What `/runs/:id/live.json` answers: where a run is, each phase's and shard's progress, the
 * latest closed windows of the phase running now and its criteria judged so far, from what the
 * workers already put in Redis (their shard jobs' progress and results). Each answer is read afresh:
 * a page opened mid-phase judges what one open from the start does. The live page polls it; it
 * reads like the report, in words and numbers, never in BullMQ's state names.
 */
import { addLiveCriteria } from '../coordinator/distributed/add-live-criteria';
import type { RunProgress } from '../coordinator/distributed/watch-run';
import { describeLiveCriteria, type LiveCriteria } from '../coordinator/metrics/live-criteria';
import type { Criterion } from '../shared/criteria';
import { validatePlan } from '../shared/parse-plan';
import { firstStop } from '../shared/shard-result';
import type { FoundRun } from './find-run';
import { livePoints, type LivePoint } from './live-points';

export type { LivePoint } from './live-points';

interface LiveShard {
  shardIndex: number;
  /** In words: "not queued yet", "queued", "running", "retrying soon", "done", "failed". */
  state: string;
  /** Requests that succeeded, and that failed, so far (measured ones): a done shard's from its result. */
  ok: number;
  errors: number;
  /**
   * Whether `ok` and `errors` are final or current: false only for a done shard whose result could
   * not be read (its counts are then those of its last report, a lower bound).
   */
  countsFinal: boolean;
  /** 0..1 of the shard's planned work (time or requests, whichever is further along); 1 once done. */
  fraction: number;
  /** Attempts started (1 on a first run); retries are attempts - 1. */
  attempts: number;
  /** The worker process running it (or that ran it), once it has reported; null before. */
  worker: string | null;
}

export interface LivePhase {
  phaseIndex: number;
  name: string;
  /** "done", "failed", "running", "waiting for a worker" (its shards not taken yet) or "waiting" (a later phase). */
  state: string;
  /** Whether this is the phase the run is in now. */
  current: boolean;
  /** Its shards' counts added up; `countsFinal` when every shard's are. */
  ok: number;
  errors: number;
  countsFinal: boolean;
  /** Mean of its shards' fractions. */
  fraction: number;
  shards: LiveShard[];
  /** The latest windows every shard has closed, oldest first; empty except for the current phase. */
  windows: LivePoint[];
  /** Why it stopped, or is stopping, before its planned end, as soon as a shard has said; null otherwise. */
  stopping: string | null;
  /**
   * The current phase's criteria judged so far on its shards' totals (`judgeLive`), with the words
   * `grym-perf run` prints after "criteria so far:"; null for other phases and a phase without criteria.
   */
  criteria: (LiveCriteria & { words: string }) | null;
}

export interface LiveRun {
  runId: string;
  /** The plan's name. */
  plan: string;
  submittedAt: string;
  /** Where the run is, in words (as `grym-perf report` says it). */
  words: string;
  /** The run has ended (its report is readable, or it failed): the page shows the final page on its next load. */
  ended: boolean;
  /** The verdict of a finished run; null until then, and for a run that failed without a report. */
  passed: boolean | null;
  phases: LivePhase[];
  /** When the dashboard read this from Redis (ISO 8601). */
  readAt: string;
}

const DONE = new Set(['completed', 'failed']);

const SHARD_WORDS: Record<string, string> = {
  pending: 'not queued yet',
  waiting: 'queued',
  prioritized: 'queued',
  'waiting-children': 'queued',
  delayed: 'retrying soon',
  active: 'running',
  completed: 'done',
  failed: 'failed',
};

type ProgressPhase = RunProgress['phases'][number];

function phaseWords(phase: ProgressPhase, current: ProgressPhase | undefined): string {
  if (phase.state === 'failed') return 'failed';
  if (!current || phase.phaseIndex < current.phaseIndex) return 'done';
  if (phase.phaseIndex > current.phaseIndex) return 'waiting';
  return phase.shards.some((shard) => shard.state !== 'pending') ? 'running' : 'waiting for a worker';
}

function liveShard(shard: ProgressPhase['shards'][number], shardIndex: number): LiveShard {
  const done = shard.state === 'completed';
  return {
    shardIndex,
    state: SHARD_WORDS[shard.state] ?? shard.state,
    ok: shard.completed,
    errors: shard.errors,
    // A report with all the planned work done is the shard's last word; an earlier one is not.
    countsFinal: !done || shard.fraction >= 1,
    fraction: done ? 1 : shard.fraction,
    attempts: shard.attempts,
    worker: shard.worker ?? null,
  };
}

function livePhase(phase: ProgressPhase, current: ProgressPhase | undefined): LivePhase {
  const isCurrent = current?.phaseIndex === phase.phaseIndex;
  const criteria = isCurrent && phase.criteria ? { ...phase.criteria, words: describeLiveCriteria(phase.criteria) } : null;
  const shards = phase.shards.map(liveShard);
  return {
    phaseIndex: phase.phaseIndex,
    name: phase.name,
    state: phaseWords(phase, current),
    current: isCurrent,
    ok: shards.reduce((sum, shard) => sum + shard.ok, 0),
    errors: shards.reduce((sum, shard) => sum + shard.errors, 0),
    countsFinal: shards.every((shard) => shard.countsFinal),
    fraction: shards.reduce((sum, shard) => sum + shard.fraction, 0) / Math.max(1, shards.length),
    shards,
    windows: isCurrent ? livePoints(phase.shards) : [],
    stopping: firstStop(phase.shards)?.reason ?? null,
    criteria,
  };
}

/** Each phase's criteria, from the plan the run was submitted with (none when it no longer validates: another version's). */
function planCriteria(run: FoundRun): Array<{ criteria: readonly Criterion[] }> {
  try {
    return validatePlan((run.job.data as { planInput?: unknown }).planInput).phases;
  } catch {
    return [];
  }
}

/** The live view of a run found in Redis. */
export function liveRun(run: FoundRun): LiveRun {
  const { job } = run;
  // The phase the run is in: the first that has not ended (none while the report is aggregated, or after).
  const found = run.ended ? undefined : run.progress.phases.find((phase) => !DONE.has(phase.state));
  const progress = found ? addLiveCriteria(planCriteria(run), run.progress) : run.progress;
  const current = found && progress.phases.find((phase) => phase.phaseIndex === found.phaseIndex);
  const submittedAt = (job.data as { submittedAt?: unknown }).submittedAt;
  return {
    runId: run.runId,
    plan: job.name,
    submittedAt: typeof submittedAt === 'string' ? submittedAt : new Date(job.timestamp).toISOString(),
    words: run.words,
    ended: run.ended,
    passed: run.report ? run.report.passed : null,
    phases: progress.phases.map((phase) => livePhase(phase, current)),
    readAt: new Date().toISOString(),
  };
}
