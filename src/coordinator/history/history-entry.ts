/**
 * What the history keeps of a run: its report, the raw distributions a comparison needs (the whole
 * phase's encoded HdrHistograms and its window series), and what says whether two runs may be
 * compared (plan hash, environment fingerprint).
 */
import type { RunReport } from '../../shared/run-report';
import type { HistogramName, ShardResult } from '../../shared/shard-result';
import type { WindowSeries } from '../../shared/window-series';
import type { EnvironmentFingerprint } from './environment-fingerprint';

/** Bump on a change that breaks a reader of stored entries. */
export const HISTORY_FORMAT_VERSION = 1;

/** One phase's distributions: everything a comparison tests on, nothing per request. */
export interface HistoryPhase {
  name: string;
  /** Encoded HdrHistograms (microseconds for times), as merged over every shard. */
  histograms: Record<HistogramName, string>;
  series: WindowSeries;
}

export interface HistoryEntry {
  formatVersion: typeof HISTORY_FORMAT_VERSION;
  runId: string;
  planName: string;
  /** sha256 of the workload the plan asks for (see plan-hash.ts). */
  planHash: string;
  fingerprint: EnvironmentFingerprint;
  /** When it was kept (ISO). */
  storedAt: string;
  report: RunReport;
  /** Per phase of the report, in its order; null for a phase with no result. Empty for a report read from a file. */
  phases: Array<HistoryPhase | null>;
}

/** A line of `grym-perf history`: what listing needs, without the report. */
export interface HistorySummary {
  runId: string;
  planName: string;
  startedAt: string;
  mode: RunReport['mode'];
  /** pass, fail or aborted. */
  verdict: 'pass' | 'fail' | 'aborted';
  planHash: string;
  fingerprintHash: string;
}

export function historyPhaseOf(name: string, merged: ShardResult | null): HistoryPhase | null {
  return merged ? { name, histograms: merged.histograms, series: merged.series } : null;
}

export function summaryOf(entry: HistoryEntry): HistorySummary {
  const { report } = entry;
  return {
    runId: entry.runId,
    planName: entry.planName,
    startedAt: report.startedAt,
    mode: report.mode,
    verdict: report.aborted ? 'aborted' : report.passed ? 'pass' : 'fail',
    planHash: entry.planHash,
    fingerprintHash: entry.fingerprint.hash,
  };
}
