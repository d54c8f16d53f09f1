/**
 * Where the dashboard finds a run: the one function every run route calls, so that how run ids map
 * to jobs (`runJobId`, read by `readRunProgress`) is decided in one place. A run id that cannot be
 * one answers 400, an unknown run 404; neither ever reaches Redis as a key of BullMQ's own.
 */
import type { Job } from 'bullmq';
import { describeRunProgress, readRunProgress, type RunProgress, type RunQueues } from '../coordinator/distributed/watch-run';
import { GrymError } from '../shared/errors';
import { parseRunId } from '../shared/queue-layout';
import type { RunReport } from '../shared/run-report';
import { PageError } from './page-error';

export interface FoundRun {
  runId: string;
  job: Job;
  progress: RunProgress;
  /** Where the run is, in words ("queued, ...", "running phase 2 of 3 (cross-model)", "finished"). */
  words: string;
  /** The report of a completed run. */
  report?: RunReport;
  /** Whether the run has ended (its report readable, or failed): its page shows the end, and no longer follows it. */
  ended: boolean;
}

/** The report a completed run job returned, or undefined when its return value is not one. */
export function reportOf(job: Job): RunReport | undefined {
  const value = job.returnvalue as RunReport | null | undefined;
  return value && Array.isArray(value.phases) ? value : undefined;
}

/** The run `runId` names, with its progress; throws `PageError` 400 (invalid id) or 404 (no such run). */
export async function findRun(queues: RunQueues, runId: string): Promise<FoundRun> {
  try {
    parseRunId(runId);
  } catch (error) {
    throw error instanceof GrymError ? new PageError(400, error.message) : error;
  }
  const { job, progress } = await readRunProgress(queues, runId);
  if (!job) throw new PageError(404, `no run ${runId} here: check the run id and the dashboard's --prefix`);
  const report = progress.state === 'completed' ? reportOf(job) : undefined;
  // A completed run whose report is not readable yet is shown as still running: the live page's next poll has it.
  const ended = progress.state === 'failed' || report !== undefined;
  return { runId, job, progress, words: describeRunProgress(progress), ended, ...(report ? { report } : {}) };
}
