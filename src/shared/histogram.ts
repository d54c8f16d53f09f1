/**
 * HdrHistograms: recorded per thread in integer units (microseconds for times), shipped as
 * compressed base64 across threads and Redis, and merged by adding, never by averaging percentiles.
 */
import * as hdr from 'hdr-histogram-js';
import type { Summary } from './phase-metrics';

export type Histogram = hdr.Histogram;

/** 3 significant digits: 0.1 % error, the resolution autocannon and k6 report at. */
export function createHistogram(): Histogram {
  return hdr.build({ numberOfSignificantValueDigits: 3 });
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded);
}

/** Adds encoded histograms into one; an empty list gives an empty histogram. */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const merged = createHistogram();
  for (const item of encoded) merged.add(decodeHistogram(item));
  return merged;
}

/** Adds encoded histograms and encodes the sum again (for shard -> phase merging). */
export function mergeEncodedToEncoded(encoded: readonly string[]): string {
  return encodeHistogram(mergeEncoded(encoded));
}

/** Percentiles of a histogram, divided by `divisor` (1000 turns microseconds into ms). */
export function summarize(histogram: Histogram, divisor = 1000): Summary | null {
  if (histogram.totalCount === 0) return null;
  const at = (percentile: number) => histogram.getValueAtPercentile(percentile) / divisor;
  return {
    count: histogram.totalCount,
    min: histogram.minNonZeroValue / divisor,
    p10: at(10),
    mean: histogram.mean / divisor,
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    max: histogram.maxValue / divisor,
  };
}
