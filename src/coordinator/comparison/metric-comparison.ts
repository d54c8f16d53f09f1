/** One row of a comparison: a metric of a phase in both runs, its change, and the verdict. */
import type { RegressionMetric, RegressionScale, RegressionThreshold } from '../../shared/regression-schema';
import type { ThresholdSource } from './practical-threshold';
import type { Verdict } from './verdict';

export interface MetricComparison {
  metric: RegressionMetric;
  description: string;
  /** duration: milliseconds; rate: per second; ratio: fraction of one. */
  scale: RegressionScale;
  base: number | null;
  new: number | null;
  /** new - base, in the metric's unit. */
  difference: number | null;
  /** new / base - 1; null when base is 0 or missing. */
  relativeChange: number | null;
  /**
   * The confidence interval of the change the verdict was judged on, in the threshold's terms:
   * a fraction of BASE (relative), a difference of ratios (points) or milliseconds (absolute).
   */
  interval: [number, number] | null;
  threshold: RegressionThreshold;
  /** The plan's, the default, or the default widened by the noise of the history. */
  thresholdSource: ThresholdSource;
  /** Why this threshold: "default +10%, widened to +14% by the noise of 9 earlier runs". */
  thresholdNote: string;
  verdict: Verdict;
  /** Why this verdict, in words: "95 % interval +18.1 % .. +21.0 %, beyond +10 %", "too few requests: 12 and 14 (< 30)". */
  reason: string;
  /** How the interval was computed. */
  method: string;
  /** Values each side was judged on (requests, gaps, probes, windows). */
  samples: [number, number] | null;
}
