/**
 * `grym-perf trend`: every judged metric of every phase over the kept runs of a plan, series by
 * series (one per environment and workload), with change points and the noise envelope.
 */
import { REGRESSION_METRIC_IDS } from '../../shared/regression-schema';
import type { EnvironmentFingerprint } from '../history/environment-fingerprint';
import type { HistoryEntry } from '../history/history-entry';
import { groupRuns, type SkippedRun } from './group-runs';
import { metricTrend, type MetricTrend } from './metric-trend';
import { trendPoint } from './trend-point';

interface PhaseTrend {
  phase: string;
  /** The judged metrics some run of the series measured, in REGRESSION_METRICS order. */
  metrics: MetricTrend[];
}

/** A run of a series, as the trend lists it. */
interface TrendRun {
  runId: string;
  startedAt: string;
  verdict: 'pass' | 'fail';
}

/** One series: runs with the same environment fingerprint and plan hash. */
export interface TrendSeries {
  fingerprint: EnvironmentFingerprint;
  planHash: string;
  /** Oldest first. */
  runs: TrendRun[];
  /** What differs from the series with the newest run; empty for that one (the first). */
  differences: string[];
  phases: PhaseTrend[];
}

export interface PlanTrend {
  plan: string;
  /** Where the history is (a folder, or a Redis URL without its password). */
  where: string;
  /** The series with the newest run first. */
  series: TrendSeries[];
  skipped: SkippedRun[];
}

/** The trend of plan `plan` over `entries` (its kept runs, any order). */
export function buildTrend(plan: string, where: string, entries: readonly HistoryEntry[]): PlanTrend {
  const { groups, skipped } = groupRuns(entries);
  const series = groups.map((group): TrendSeries => {
    const phaseNames: string[] = [];
    for (const entry of [...group.entries].reverse()) {
      for (const phase of entry.report.phases) if (!phaseNames.includes(phase.name)) phaseNames.push(phase.name);
    }
    const phases = phaseNames.map((phaseName) => ({
      phase: phaseName,
      metrics: REGRESSION_METRIC_IDS.flatMap((metric) => {
        const points = group.entries.map((entry) => trendPoint(entry, phaseName, metric));
        return points.some((point) => point.value !== null || point.excluded !== null) ? [metricTrend(metric, points)] : [];
      }),
    }));
    const last = group.entries.at(-1)!;
    return {
      fingerprint: last.fingerprint,
      planHash: group.planHash,
      runs: group.entries.map((entry) => ({
        runId: entry.runId,
        startedAt: entry.report.startedAt,
        verdict: entry.report.passed ? 'pass' : 'fail',
      })),
      differences: group.differences,
      phases,
    };
  });
  return { plan, where, series, skipped };
}
