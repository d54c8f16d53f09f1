/** A finished run as the history keeps it: report, distributions, plan hash, fingerprint. */
import type { RunReport } from '../../shared/run-report';
import type { ShardResult } from '../../shared/shard-result';
import { environmentFingerprint } from './environment-fingerprint';
import { HISTORY_FORMAT_VERSION, historyPhaseOf, type HistoryEntry } from './history-entry';
import { planHash } from './plan-hash';

/** `phaseResults[i]`: phase i's merged result (null or missing: none). An empty list gives an entry without distributions. */
export function buildHistoryEntry(
  report: RunReport,
  phaseResults: ReadonlyArray<ShardResult | null | undefined>,
  serverVersion: string | null = null,
): HistoryEntry {
  return {
    formatVersion: HISTORY_FORMAT_VERSION,
    runId: report.runId,
    planName: report.plan.name,
    planHash: planHash(report),
    fingerprint: environmentFingerprint(report, serverVersion),
    storedAt: new Date().toISOString(),
    report,
    phases: phaseResults.length === 0 ? [] : report.phases.map((phase, index) => historyPhaseOf(phase.name, phaseResults[index] ?? null)),
  };
}
