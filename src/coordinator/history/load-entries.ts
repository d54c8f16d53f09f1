/** Kept runs read back in full, for what needs more than their summaries (trends, noise calibration). */
import type { HistoryEntry, HistorySummary } from './history-entry';
import type { HistoryStore } from './history-store';

/** The entries of `summaries`, in their order; a run that expired or was removed since it was listed is left out. */
export async function loadEntries(store: HistoryStore, summaries: readonly HistorySummary[]): Promise<HistoryEntry[]> {
  const entries: HistoryEntry[] = [];
  for (const summary of summaries) {
    const entry = await store.load(summary.runId);
    if (entry) entries.push(entry);
  }
  return entries;
}
