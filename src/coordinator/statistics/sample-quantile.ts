/**
 * Quantile of an ascending sorted sample by linear interpolation between order statistics:
 * Hyndman and Fan's type 7, the default of numpy `percentile`, R `quantile` and Excel `PERCENTILE`,
 * so any number computed with it can be reproduced with `numpy.percentile(x, 100 * q)`.
 *
 * For q in [0, 1]: h = (n - 1) q, result = x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]).
 * Returns NaN for an empty sample.
 */
export function sampleQuantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (!(q >= 0 && q <= 1)) throw new RangeError(`sampleQuantile: q must be in [0, 1] (got ${q})`);
  const h = (n - 1) * q;
  const lower = Math.floor(h);
  const below = sorted[lower]!;
  if (lower + 1 >= n) return below;
  return below + (h - lower) * (sorted[lower + 1]! - below);
}
