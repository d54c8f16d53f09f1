/**
 * The run-to-run noise `compare` and `run --baseline` calibrate default thresholds with: for each
 * phase and metric, the noise envelope of the earlier runs like NEW (same plan, same workload,
 * same environment fingerprint; never runs from another machine or server), measured between the
 * change points of their history exactly as `grym-perf trend` shows it.
 */
import { DEFAULT_TREND_RUNS } from '../../shared/defaults';
import type { RegressionMetric } from '../../shared/regression-schema';
import type { NoiseCalibration, NoiseEvidence } from '../comparison/practical-threshold';
import type { HistoryEntry } from '../history/history-entry';
import type { HistoryStore } from '../history/history-store';
import { loadEntries } from '../history/load-entries';
import { metricTrend } from './metric-trend';
import { trendPoint } from './trend-point';

/** The noise evidence of `earlier` (runs like NEW, any order), computed per phase and metric when first asked for. */
export function noiseCalibration(earlier: readonly HistoryEntry[]): NoiseCalibration {
  const oldestFirst = [...earlier].sort((a, b) => a.report.startedAt.localeCompare(b.report.startedAt) || a.runId.localeCompare(b.runId));
  const known = new Map<string, NoiseEvidence | undefined>();
  return (phase: string, metric: RegressionMetric) => {
    const key = `${phase}\u0000${metric}`;
    if (!known.has(key)) {
      const trend = metricTrend(
        metric,
        oldestFirst.map((entry) => trendPoint(entry, phase, metric)),
      );
      const latest = trend.segments.at(-1);
      known.set(
        key,
        trend.envelope && latest
          ? { suggested: trend.envelope.suggestedThreshold, runs: trend.envelope.runs, latestSegmentRuns: latest.runs }
          : undefined,
      );
    }
    return known.get(key);
  };
}

/**
 * The calibration for comparing `next`: the newest DEFAULT_TREND_RUNS runs of the history that
 * share its plan name, plan hash and fingerprint, started before it, and were not interrupted.
 */
export async function loadNoiseCalibration(store: HistoryStore, next: HistoryEntry): Promise<NoiseCalibration> {
  const like = (await store.list({ plan: next.planName })).filter(
    (run) =>
      run.runId !== next.runId &&
      run.planHash === next.planHash &&
      run.fingerprintHash === next.fingerprint.hash &&
      run.verdict !== 'aborted' &&
      run.startedAt < next.report.startedAt,
  );
  return noiseCalibration(await loadEntries(store, like.slice(0, DEFAULT_TREND_RUNS)));
}
