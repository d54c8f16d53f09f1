/**
 * The kept runs of a plan split into series that may be compared: one per environment fingerprint
 * and plan hash. Runs on another machine, against another server, or sending another workload
 * measured something else; mixing them into one series would show their difference as a change
 * point, so they are kept apart, each series said with what differs from the newest one.
 */
import type { HistoryEntry } from '../history/history-entry';
import { fingerprintDifferences } from '../history/environment-fingerprint';

/** Runs that can be compared with each other, oldest first. */
export interface RunGroup {
  fingerprintHash: string;
  planHash: string;
  entries: HistoryEntry[];
  /** How this series differs from the one with the newest run ("field: this → newest"). Empty for that one. */
  differences: string[];
}

/** What the trend leaves out, and why. */
export interface SkippedRun {
  runId: string;
  reason: string;
}

const startOrder = (a: HistoryEntry, b: HistoryEntry) =>
  a.report.startedAt.localeCompare(b.report.startedAt) || a.runId.localeCompare(b.runId);

/**
 * Series of `entries` (any order), the one holding the newest run first, then by their newest run.
 * Interrupted runs are left out (their phases stopped early: their values are not the plan's).
 */
export function groupRuns(entries: readonly HistoryEntry[]): { groups: RunGroup[]; skipped: SkippedRun[] } {
  const skipped: SkippedRun[] = [];
  const byKey = new Map<string, HistoryEntry[]>();
  for (const entry of [...entries].sort(startOrder)) {
    if (entry.report.aborted) {
      skipped.push({ runId: entry.runId, reason: 'interrupted: its phases stopped early' });
      continue;
    }
    const key = `${entry.fingerprint.hash}/${entry.planHash}`;
    byKey.set(key, [...(byKey.get(key) ?? []), entry]);
  }
  const series = [...byKey.values()].sort((a, b) => startOrder(b.at(-1)!, a.at(-1)!));
  const newest = series[0]?.at(-1);
  const groups = series.map((runs): RunGroup => {
    const last = runs.at(-1)!;
    const differences = newest ? fingerprintDifferences(last.fingerprint, newest.fingerprint) : [];
    if (newest && last.planHash !== newest.planHash) {
      differences.push(`plan hash: ${last.planHash.slice(0, 12)} → ${newest.planHash.slice(0, 12)} (another workload)`);
    }
    return { fingerprintHash: last.fingerprint.hash, planHash: last.planHash, entries: runs, differences };
  });
  return { groups, skipped };
}
