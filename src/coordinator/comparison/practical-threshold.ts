/**
 * The threshold a comparison judges a metric with, and why: the plan's when its `regression:`
 * block names the metric (never changed), else the default, widened when the history of runs like
 * NEW's shows that the metric moves more than that between runs of unchanged code.
 *
 * The rule, for a metric whose default is relative (latencies, throughput): with at least
 * NOISE_CALIBRATION_MIN_RUNS earlier runs of the same plan, workload and environment at the
 * current level (since the last change point), the threshold is the larger of the default and the
 * noise envelope's suggested threshold (`noiseEnvelope`: 2 x the 95th percentile of the A/A pair
 * differences between change points), rounded up to a whole percent. Ratios (errors, recall,
 * stability) keep their defaults: their tests on counts already hold their noise.
 */
import { DEFAULT_REGRESSION_THRESHOLDS, NOISE_CALIBRATION_MIN_RUNS } from '../../shared/defaults';
import {
  parseRegressionThreshold,
  REGRESSION_METRICS,
  type RegressionMetric,
  type RegressionThreshold,
} from '../../shared/regression-schema';

/** Where a metric's threshold came from. */
export type ThresholdSource = 'plan' | 'default' | 'history';

export interface PracticalThreshold {
  threshold: RegressionThreshold;
  source: ThresholdSource;
  /** Why this threshold, in words: "plan", "default", "default +10%, widened to +14% by the noise of 9 earlier runs". */
  note: string;
}

/** What the history of runs like NEW's says of one metric's run-to-run noise. */
export interface NoiseEvidence {
  /** The noise envelope's suggested threshold, relative (0.14 for 14 %). */
  suggested: number;
  /** Runs the envelope was measured on (all segments between change points). */
  runs: number;
  /** Runs since the last change point: the current level. */
  latestSegmentRuns: number;
}

/** The noise evidence of a phase's metric, undefined where the history has none. */
export type NoiseCalibration = (phase: string, metric: RegressionMetric) => NoiseEvidence | undefined;

function defaultThreshold(metric: RegressionMetric): RegressionThreshold {
  const parsed = parseRegressionThreshold(metric, DEFAULT_REGRESSION_THRESHOLDS[metric]);
  if ('error' in parsed) throw new Error(`default regression threshold of ${metric}: ${parsed.error}`);
  return parsed;
}

/** The threshold of `metric`: `planned` (the plan's, if it names the metric), else the default, calibrated by `evidence`. */
export function practicalThreshold(
  metric: RegressionMetric,
  planned: RegressionThreshold | undefined,
  evidence: NoiseEvidence | undefined,
): PracticalThreshold {
  if (planned) return { threshold: planned, source: 'plan', note: `plan's regression: ${planned.text}` };
  const standard = defaultThreshold(metric);
  if (standard.kind !== 'relative' || !evidence) return { threshold: standard, source: 'default', note: `default ${standard.text}` };
  if (evidence.latestSegmentRuns < NOISE_CALIBRATION_MIN_RUNS) {
    return {
      threshold: standard,
      source: 'default',
      note: `default ${standard.text} (${evidence.latestSegmentRuns} earlier run${evidence.latestSegmentRuns === 1 ? '' : 's'} at the current level; ${NOISE_CALIBRATION_MIN_RUNS} calibrate it)`,
    };
  }
  const sign = REGRESSION_METRICS[metric].worse === 1 ? '+' : '-';
  // Whole percents read well and the envelope is not more precise than that; 1e-9 keeps 0.14 at 14.
  const percent = Math.ceil(evidence.suggested * 100 - 1e-9);
  const noise = `the noise of ${evidence.runs} earlier runs`;
  if (percent / 100 <= standard.value) {
    return { threshold: standard, source: 'default', note: `default ${standard.text} (${noise} needs only ${sign}${percent}%)` };
  }
  const text = `${sign}${percent}%`;
  return {
    threshold: { kind: 'relative', value: percent / 100, text },
    source: 'history',
    note: `default ${standard.text}, widened to ${text} by ${noise}`,
  };
}
