/**
 * One metric over the kept runs of one series (one plan, one environment): its values oldest
 * first, the change points of its level, the segments between them, and the noise envelope
 * measured from those segments.
 */
import { REGRESSION_METRICS, type RegressionMetric, type RegressionScale } from '../../shared/regression-schema';
import { detectChangePoints, noiseEnvelope, type NoiseEnvelope } from '../statistics';

/** One run's value of the metric. */
export interface TrendPoint {
  runId: string;
  startedAt: string;
  /** In the metric's unit (ms, per second, a fraction); null when the run did not measure it, or its timing is not evidence. */
  value: number | null;
  /** Why a value the run measured is left out (its load generator was not trustworthy); null otherwise. */
  excluded: string | null;
}

/** A shift of the metric's level, at the first run of the new level. */
interface TrendChangePoint {
  runId: string;
  /** Index of that run in `points`. */
  position: number;
  /** Mean of the segment before and of the segment from this run on (to the next change point). */
  before: number;
  after: number;
  /** after / before - 1; null when before is 0. */
  relativeChange: number | null;
  /** Welch's two-sided p-value between the two segments. */
  pValue: number;
}

/** Runs between two change points (or the ends): one level. */
interface TrendSegment {
  fromRunId: string;
  toRunId: string;
  /** Runs with a value in it. */
  runs: number;
  /** Their mean. */
  level: number;
}

export interface MetricTrend {
  metric: RegressionMetric;
  description: string;
  scale: RegressionScale;
  points: TrendPoint[];
  changePoints: TrendChangePoint[];
  /** Oldest first; the last one is the current level. */
  segments: TrendSegment[];
  /** Run-to-run noise between change points (see `noiseEnvelope`); null with fewer than two runs in a segment. */
  envelope: NoiseEnvelope | null;
}

/**
 * The trend of `metric` over `points` (oldest first). Change points come from `detectChangePoints`
 * on the runs that have a value (deterministic: E-divisive means proposes, Welch's t-test keeps);
 * the envelope from `noiseEnvelope` on the same values cut at those change points.
 */
export function metricTrend(metric: RegressionMetric, points: TrendPoint[]): MetricTrend {
  const positions: number[] = [];
  const values: number[] = [];
  points.forEach((point, position) => {
    if (point.value === null) return;
    positions.push(position);
    values.push(point.value);
  });
  const found = detectChangePoints(values);
  const runAt = (valueIndex: number) => points[positions[valueIndex]!]!;
  const bounds = [0, ...found.map((point) => point.index), values.length];
  const segments: TrendSegment[] = [];
  for (let s = 0; s + 1 < bounds.length && values.length > 0; s++) {
    const [from, to] = [bounds[s]!, bounds[s + 1]!];
    const level = values.slice(from, to).reduce((sum, value) => sum + value, 0) / (to - from);
    segments.push({ fromRunId: runAt(from).runId, toRunId: runAt(to - 1).runId, runs: to - from, level });
  }
  const definition = REGRESSION_METRICS[metric];
  return {
    metric,
    description: definition.description,
    scale: definition.scale,
    points,
    changePoints: found.map((point) => ({
      runId: runAt(point.index).runId,
      position: positions[point.index]!,
      before: point.before,
      after: point.after,
      relativeChange: point.relativeChange,
      pValue: point.pValue,
    })),
    segments,
    envelope: noiseEnvelope(values, found),
  };
}
