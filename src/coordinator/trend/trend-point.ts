/** A run's value of one metric of one phase, as trends and the noise calibration read it. */
import { METRICS } from '../../shared/phase-metrics';
import type { RegressionMetric } from '../../shared/regression-schema';
import { generatorTrusted, isTimingMetric } from '../comparison/timing-trust';
import type { HistoryEntry } from '../history/history-entry';
import type { TrendPoint } from './metric-trend';

/**
 * The report's value (the same a comparison shows); null when the run has no such phase or did not
 * measure the metric. Timings of a phase whose load generator was not trustworthy are left out:
 * they measured the machine, and would pass for noise or a change of the target.
 */
export function trendPoint(entry: HistoryEntry, phaseName: string, metric: RegressionMetric): TrendPoint {
  const at = { runId: entry.runId, startedAt: entry.report.startedAt };
  const phase = entry.report.phases.find((candidate) => candidate.name === phaseName);
  const value = phase ? METRICS[metric]!.read(phase.metrics) : null;
  if (phase && value !== null && isTimingMetric(metric) && !generatorTrusted(phase)) {
    return { ...at, value: null, excluded: 'its load generator was not trustworthy' };
  }
  return { ...at, value, excluded: null };
}
