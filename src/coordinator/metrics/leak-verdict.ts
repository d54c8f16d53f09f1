import type { LeakVerdict, MemorySample } from '../../shared/phase-metrics';
import type { TargetMemoryUnit } from '../../shared/units';

/** A trend explains at least this share of the variance before it counts as one. */
const MIN_TREND_R2 = 0.6;
/** Fewer samples than this say nothing about a trend. */
const MIN_SAMPLES = 5;

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * Least-squares trend of each memory series; the verdict of the steepest one: a leak when the
 * trend is clear (R² >= 0.6) and adds up to more than `thresholdBytes` over the series' span.
 * Readings that are not bytes (a ratio or a count from Prometheus) get their trend, never a verdict.
 */
export function leakVerdict(seriesList: MemorySample[][], thresholdBytes: number, unit: TargetMemoryUnit = 'bytes'): LeakVerdict {
  let steepest: LeakVerdict = { slopeBytesPerSecond: null, interceptBytes: null, verdict: 'insufficient-data' };
  for (const samples of seriesList) {
    if (samples.length < MIN_SAMPLES) continue;
    const xs = samples.map((sample) => sample.tMs / 1000);
    const ys = samples.map((sample) => sample.bytes);
    const meanX = mean(xs);
    const meanY = mean(ys);
    const sxx = xs.reduce((sum, x) => sum + (x - meanX) ** 2, 0);
    const syy = ys.reduce((sum, y) => sum + (y - meanY) ** 2, 0);
    const sxy = xs.reduce((sum, x, i) => sum + (x - meanX) * ((ys[i] as number) - meanY), 0);
    if (sxx === 0) continue;
    const slope = sxy / sxx;
    const r2 = syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
    const spanSeconds = (xs.at(-1) as number) - (xs[0] as number);
    const leaks = slope > 0 && r2 >= MIN_TREND_R2 && slope * spanSeconds > thresholdBytes;
    const verdict = unit !== 'bytes' ? 'not-bytes' : leaks ? 'leak' : 'stable';
    if (steepest.slopeBytesPerSecond === null || slope > steepest.slopeBytesPerSecond) {
      steepest = { slopeBytesPerSecond: slope, interceptBytes: meanY - slope * meanX, verdict };
    }
  }
  return steepest;
}
