/**
 * A comparison against a baseline (`run --baseline`) as the checks the CI outputs take: one per
 * phase and metric, its detail saying both values, the change, the threshold when the history
 * widened it, and why the verdict.
 */
import type { RunComparison } from '../comparison';
import { whyCell } from '../comparison/threshold-words';
import { formatValue } from '../../shared/units';
import type { RegressionCheck } from './regression-check';

export function regressionChecksOf(comparison: RunComparison): RegressionCheck[] {
  return comparison.phases.flatMap((phase) =>
    phase.metrics.map((metric): RegressionCheck => {
      const value = (v: number | null) => formatValue(metric.scale, v);
      const change =
        metric.relativeChange === null ? '' : ` (${metric.relativeChange >= 0 ? '+' : ''}${(metric.relativeChange * 100).toFixed(1)} %)`;
      return {
        phase: phase.phase,
        metric: metric.metric,
        verdict: metric.verdict,
        detail: `${value(metric.base)} -> ${value(metric.new)}${change}: ${whyCell(metric)}`,
      };
    }),
  );
}
