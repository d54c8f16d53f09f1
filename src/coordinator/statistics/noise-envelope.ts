/**
 * Run-to-run noise of a metric when nothing changed (an A/A spread), measured from its history
 * between change points, and the practical-significance threshold that follows from it.
 */
import { sampleQuantile } from './sample-quantile';
import { statisticsDefaults } from './statistics-defaults';

// Bound once: under Jest's vm context each global `Math` lookup in the O(n^2) loop costs ~0.5 us.
const { abs } = Math;

export interface NoiseEnvelopeOptions {
  /** `suggestedThreshold` = this x `pairwiseSpread`, > 0. Default 2. */
  thresholdFactor?: number;
}

/** How much a metric moves between runs of unchanged code; every spread is relative to the level. */
export interface NoiseEnvelope {
  /** Runs that contributed: those in segments of >= 2 runs with a positive median. */
  runs: number;
  /** Segments that contributed. */
  segments: number;
  /** 95th percentile of |x - m| / m over the contributing runs, m the median of the run's segment. */
  relativeSpread: number;
  /** 1.4826 x median(|x - m| / m): the MAD estimate of one run's relative standard deviation. */
  relativeSigma: number;
  /** 95th percentile of |x_i - x_j| / m over all pairs of runs i < j in the same segment. */
  pairwiseSpread: number;
  /** `thresholdFactor` x `pairwiseSpread`: a relative change below this is within run-to-run noise. */
  suggestedThreshold: number;
}

// Scales a median absolute deviation to the standard deviation of a normal distribution: 1 / Phi^-1(3/4).
const MAD_TO_SIGMA = 1.482602218505602;

function median(sorted: Float64Array): number {
  return sampleQuantile(sorted, 0.5);
}

/**
 * The noise envelope of `series` (a metric's history, oldest first) cut at `changePoints` (the
 * `index` of each change point: the first run of a new segment; `detectChangePoints` output fits).
 *
 * Definitions (quantiles are type 7, numpy's default `percentile`): within each segment S between
 * change points, with m_S the median of its runs (segments of one run, or with m_S <= 0, are left
 * out), over all remaining runs x and all pairs of runs x_i, x_j in one segment:
 * - relativeSpread = p95 of |x - m_S| / m_S;
 * - relativeSigma = 1.4826 x median of |x - m_S| / m_S (robust to an outlier run);
 * - pairwiseSpread = p95 of |x_i - x_j| / m_S: how far apart two runs of unchanged code land,
 *   which is what a BASE vs NEW comparison of unchanged code (an A/A pair) would see;
 * - suggestedThreshold = thresholdFactor (default 2) x pairwiseSpread. Only 5 % of A/A pairs in the
 *   history differ by more than pairwiseSpread; the factor 2 leaves room for the noise of a future
 *   run being larger than the history showed, so a relative change |new / base - 1| below this
 *   should not be called a regression however small its p-value. For normal noise of relative sd
 *   sigma, pairwiseSpread is about 1.96 sqrt(2) sigma = 2.8 sigma and the threshold 5.5 sigma:
 *   with sigma = 5 %, about 27 %, which 10 of 20000 simulated A/A pairs exceeded.
 *
 * Returns null when no segment has two runs and a positive median. Throws RangeError for a
 * non-finite value or a change point index outside 1 .. series.length - 1.
 */
export function noiseEnvelope(
  series: readonly number[],
  changePoints: readonly { index: number }[],
  options: NoiseEnvelopeOptions = {},
): NoiseEnvelope | null {
  const thresholdFactor = options.thresholdFactor ?? statisticsDefaults.noiseThresholdFactor;
  if (!(thresholdFactor > 0 && Number.isFinite(thresholdFactor)))
    throw new RangeError(`noiseEnvelope: options.thresholdFactor must be a finite number > 0 (got ${thresholdFactor})`);
  const badValue = series.findIndex((value) => !Number.isFinite(value));
  if (badValue >= 0) throw new RangeError(`noiseEnvelope: series[${badValue}] must be a finite number (got ${series[badValue]})`);
  for (const { index } of changePoints) {
    if (!Number.isInteger(index) || index < 1 || index > series.length - 1) {
      throw new RangeError(`noiseEnvelope: change point index must be an integer in [1, ${series.length - 1}] (got ${index})`);
    }
  }

  const bounds = [...new Set([0, ...changePoints.map((point) => point.index), series.length])].sort((a, b) => a - b);
  const deviations: number[] = [];
  const pairDifferences: number[] = [];
  let segments = 0;
  for (let s = 0; s + 1 < bounds.length; s++) {
    const segment = Float64Array.from(series.slice(bounds[s]!, bounds[s + 1]!));
    if (segment.length < 2) continue;
    const level = median(segment.slice().sort());
    if (!(level > 0)) continue;
    segments++;
    for (let i = 0; i < segment.length; i++) {
      deviations.push(abs(segment[i]! - level) / level);
      for (let j = i + 1; j < segment.length; j++) pairDifferences.push(abs(segment[i]! - segment[j]!) / level);
    }
  }
  if (segments === 0) return null;
  const sortedDeviations = Float64Array.from(deviations).sort();
  const sortedPairs = Float64Array.from(pairDifferences).sort();
  const pairwiseSpread = sampleQuantile(sortedPairs, 0.95);
  return {
    runs: deviations.length,
    segments,
    relativeSpread: sampleQuantile(sortedDeviations, 0.95),
    relativeSigma: MAD_TO_SIGMA * median(sortedDeviations),
    pairwiseSpread,
    suggestedThreshold: thresholdFactor * pairwiseSpread,
  };
}
