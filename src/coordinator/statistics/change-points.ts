/**
 * Change points in one metric's history of runs (oldest first), in the manner of Apache Otava
 * (ex-Hunter) and Nyrkiö: E-divisive means proposes splits, Welch's t-test accepts them.
 */
import { statisticsDefaults } from './statistics-defaults';
import { welchTTest } from './welch-t-test';

// Bound once: under Jest's vm context each global `Math` lookup in the O(n^2) loop costs ~0.5 us.
const { abs } = Math;

export interface ChangePointOptions {
  /** Keep a change point only when Welch's p-value between its two sides is below this. Default 0.001. */
  maxPValue?: number;
  /** Fewest runs on each side of a change point, an integer >= 2. Default 3. */
  minSegmentLength?: number;
}

/** A shift of the series' level between two runs. */
export interface ChangePoint {
  /** Index (in the series) of the first run of the new segment. */
  index: number;
  /** Mean of the segment that ends just before `index` (from the previous change point or the start). */
  before: number;
  /** Mean of the segment that starts at `index` (up to the next change point or the end). */
  after: number;
  /** (after - before) / |before|; null when `before` is 0. */
  relativeChange: number | null;
  /** Two-sided Welch p-value between those two segments. */
  pValue: number;
}

/**
 * The E-divisive split of `series[start, end)`: the left size m maximizing Matteson and James'
 * (2014) statistic with alpha = 1,
 *   Q(m) = m k / (m + k) * (2 B / (m k) - W_L / C(m, 2) - W_R / C(k, 2)),  k = n - m,
 * B the sum of |x_i - x_j| over pairs across the split, W_L and W_R the sums within each side, all
 * from per-point partial sums in O(n^2). Ties go to the smallest m. Returns -1 when no split leaves
 * `minLength` on both sides.
 */
function bestSplit(series: readonly number[], start: number, end: number, minLength: number): number {
  const n = end - start;
  if (n < 2 * minLength) return -1;
  // distanceBefore[p]: sum of |x_p - x_i| over start <= i < p; distanceAfter[p]: over p < j < end.
  const distanceBefore = new Float64Array(n);
  const distanceAfter = new Float64Array(n);
  let totalWithin = 0;
  for (let p = 0; p < n; p++) {
    const value = series[start + p]!;
    for (let q = p + 1; q < n; q++) {
      const distance = abs(value - series[start + q]!);
      distanceAfter[p] = distanceAfter[p]! + distance;
      distanceBefore[q] = distanceBefore[q]! + distance;
      totalWithin += distance;
    }
  }
  let withinLeft = 0;
  let withinRight = totalWithin;
  let bestStatistic = Number.NEGATIVE_INFINITY;
  let bestLeftSize = -1;
  for (let leftSize = 1; leftSize <= n - minLength; leftSize++) {
    // Move point leftSize - 1 from the right side to the left side.
    withinLeft += distanceBefore[leftSize - 1]!;
    withinRight -= distanceAfter[leftSize - 1]!;
    if (leftSize < minLength) continue;
    const rightSize = n - leftSize;
    const across = totalWithin - withinLeft - withinRight;
    const statistic =
      ((leftSize * rightSize) / n) *
      ((2 * across) / (leftSize * rightSize) -
        (2 * withinLeft) / (leftSize * (leftSize - 1)) -
        (2 * withinRight) / (rightSize * (rightSize - 1)));
    if (statistic > bestStatistic) {
      bestStatistic = statistic;
      bestLeftSize = leftSize;
    }
  }
  return bestLeftSize < 0 ? -1 : start + bestLeftSize;
}

function mean(series: readonly number[], start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += series[i]!;
  return sum / (end - start);
}

/** Welch's p-value between series[start, split) and series[split, end). */
function splitPValue(series: readonly number[], start: number, split: number, end: number): number {
  return welchTTest(series.slice(start, split), series.slice(split, end)).pValue;
}

/**
 * Finds the runs where a metric's level changed.
 *
 * Method: binary segmentation. For a segment (at first the whole series), E-divisive means with
 * alpha = 1 (Matteson and James 2014, the statistic Otava uses) proposes the split that best
 * separates the two sides' distributions, with at least `minSegmentLength` runs on each side; the
 * split is accepted when Welch's t-test between the two sides gives p < `maxPValue` (Otava replaced
 * E-divisive's permutation test with this t-test, which is deterministic), and both sides are then
 * searched the same way. Finally, as Otava does, each accepted change point is re-tested between
 * its neighbouring segments (previous change point to it, it to the next); while some p-value is at
 * or above `maxPValue`, the weakest change point is dropped and its neighbours re-tested.
 *
 * Fully deterministic (no permutations, no randomness). O(n^2) time per level of recursion: a
 * history of 1000 runs takes milliseconds.
 *
 * Returns the change points in increasing `index`; none for a series shorter than
 * 2 x `minSegmentLength`. Throws RangeError for a non-finite value or an option out of range.
 */
export function detectChangePoints(series: readonly number[], options: ChangePointOptions = {}): ChangePoint[] {
  const maxPValue = options.maxPValue ?? statisticsDefaults.changePointMaxPValue;
  const minLength = options.minSegmentLength ?? statisticsDefaults.changePointMinSegmentLength;
  if (!(maxPValue > 0 && maxPValue <= 1))
    throw new RangeError(`detectChangePoints: options.maxPValue must be in (0, 1], e.g. 0.001 (got ${maxPValue})`);
  if (!Number.isInteger(minLength) || minLength < 2)
    throw new RangeError(`detectChangePoints: options.minSegmentLength must be an integer >= 2 (got ${minLength})`);
  const badIndex = series.findIndex((value) => !Number.isFinite(value));
  if (badIndex >= 0) throw new RangeError(`detectChangePoints: series[${badIndex}] must be a finite number (got ${series[badIndex]})`);

  const accepted: number[] = [];
  const pending: Array<[number, number]> = [[0, series.length]];
  while (pending.length > 0) {
    const [start, end] = pending.pop()!;
    const split = bestSplit(series, start, end, minLength);
    if (split < 0 || !(splitPValue(series, start, split, end) < maxPValue)) continue;
    accepted.push(split);
    pending.push([start, split], [split, end]);
  }
  accepted.sort((a, b) => a - b);

  // Re-test against the final neighbours; drop the weakest until every one passes.
  for (;;) {
    const bounds = [0, ...accepted, series.length];
    const pValues = accepted.map((split, i) => splitPValue(series, bounds[i]!, split, bounds[i + 2]!));
    let weakest = -1;
    for (let i = 0; i < pValues.length; i++) {
      if (pValues[i]! >= maxPValue && (weakest < 0 || pValues[i]! > pValues[weakest]!)) weakest = i;
    }
    if (weakest < 0) {
      return accepted.map((index, i) => {
        const before = mean(series, bounds[i]!, index);
        const after = mean(series, index, bounds[i + 2]!);
        return { index, before, after, relativeChange: before === 0 ? null : (after - before) / abs(before), pValue: pValues[i]! };
      });
    }
    accepted.splice(weakest, 1);
  }
}
