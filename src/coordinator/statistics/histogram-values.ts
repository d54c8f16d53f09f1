/**
 * The distinct recorded values of an HdrHistogram with their counts, in increasing order: the form
 * the rank test and the percentile bootstrap walk, in O(distinct values) rather than O(count).
 */
import type { Histogram } from '../../shared/histogram';

/** Distinct recorded values (increasing) and their counts; `values[i]` occurred `counts[i]` times. */
export interface RecordedValues {
  /** Each bucket's highest equivalent value, in the histogram's unit (microseconds for times). */
  readonly values: Float64Array;
  /** Counts per value, all > 0. */
  readonly counts: Float64Array;
  /** Sum of `counts`: the histogram's total count. */
  readonly totalCount: number;
}

/**
 * Lists the non-empty buckets of `histogram`, lowest first.
 *
 * Each bucket is represented by its highest equivalent value because that is what
 * `getValueAtPercentile` returns (and the `valueIteratedTo` of the library's own
 * `RecordedValuesIterator`), so the percentiles computed from this list equal the p50/p95/p99 the
 * reports show (`summarize` in src/shared/histogram.ts). The rank test only needs an increasing
 * representative, so the choice does not change its result; values that share a bucket (within
 * 0.1 % at 3 significant digits) are ties, which is all the resolution the histogram kept.
 *
 * Walks the counts array directly, as the library's `getValueAtPercentile` does, rather than
 * through `histogram.recordedValuesIterator`: that iterator is one shared instance per histogram
 * (not reentrant) and keeps running totals and percentiles this does not need. The walk is
 * O(slots up to the max value): about 20k slots for a 60 s range in microseconds at 3 digits.
 */
export function histogramValues(histogram: Histogram): RecordedValues {
  if (histogram.totalCount === 0) return { values: new Float64Array(0), counts: new Float64Array(0), totalCount: 0 };
  // maxValue is an upper bound of what is recorded (subtract does not lower it), so nothing is missed.
  const lastIndex = Math.min(histogram.countsArrayLength - 1, histogram.countsArrayIndex(histogram.maxValue));
  let distinct = 0;
  for (let index = 0; index <= lastIndex; index++) if (histogram.getCountAtIndex(index) > 0) distinct++;
  const values = new Float64Array(distinct);
  const counts = new Float64Array(distinct);
  let position = 0;
  let totalCount = 0;
  for (let index = 0; index <= lastIndex; index++) {
    const count = histogram.getCountAtIndex(index);
    if (count <= 0) continue;
    values[position] = histogram.highestEquivalentValue(histogram.valueFromIndex(index));
    counts[position] = count;
    totalCount += count;
    position++;
  }
  return { values, counts, totalCount };
}
