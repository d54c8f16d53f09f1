/**
 * `report RUN_ID` for a run kept in the history (a local run, or one whose jobs have expired): its
 * report, from the folder or the Redis history the flags name.
 */
import { openHistoryStore } from '../coordinator/history';
import { UsageError } from '../shared/errors';
import type { RunReport } from '../shared/run-report';
import { historyLocation, type HistoryFlags } from './history-options';

/** The kept report, or undefined when the history has no such run. */
export async function keptReport(runId: string, flags: HistoryFlags): Promise<{ report?: RunReport; where: string }> {
  const location = historyLocation({ ...flags, history: flags.history === false ? undefined : flags.history });
  if (!location) return { where: 'no history' };
  const store = await openHistoryStore(location);
  try {
    const entry = await store.load(runId);
    return { ...(entry ? { report: entry.report } : {}), where: store.where };
  } finally {
    await store.close();
  }
}

/** The kept report of a run asked for without Redis: a usage error naming both places when it is in neither. */
export async function requireKeptReport(runId: string, flags: HistoryFlags): Promise<RunReport> {
  const { report, where } = await keptReport(runId, flags);
  if (report) return report;
  throw new UsageError(
    `run ${runId} is not in the history at ${where}, and finding a distributed run needs a Redis URL`,
    'pass --redis redis://host:6379 or set GRYM_REDIS_URL for a distributed run, or --history DIR for another history (`grym-perf history` lists them)',
  );
}
