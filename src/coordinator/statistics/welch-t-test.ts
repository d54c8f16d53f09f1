/**
 * Welch's unequal-variances t-test of two small samples (the runs on either side of a change point).
 */
import { studentTCdf } from './distributions';

export interface WelchTTestResult {
  /** (mean(b) - mean(a)) / sqrt(var(a) / n_a + var(b) / n_b), sample variances (n - 1). */
  t: number;
  /** Welch-Satterthwaite degrees of freedom. */
  degreesOfFreedom: number;
  /** Two-sided p-value of "the two means are equal". */
  pValue: number;
  meanA: number;
  meanB: number;
}

function meanAndVariance(values: ArrayLike<number>): [number, number] {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const mean = sum / values.length;
  // Two-pass variance: exact enough for latencies around 1e6 with 0.1 % noise.
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - mean) ** 2;
  return [mean, squares / (values.length - 1)];
}

/**
 * Welch's t-test of B against A, as scipy's `ttest_ind(b, a, equal_var=False)` (t is positive when
 * B's mean is larger). Each sample needs at least 2 values (RangeError otherwise). When both samples
 * are constant the test degenerates: p = 1 if the means are equal, 0 if they differ.
 */
export function welchTTest(a: ArrayLike<number>, b: ArrayLike<number>): WelchTTestResult {
  if (a.length < 2 || b.length < 2) throw new RangeError(`welchTTest: each sample needs >= 2 values (got ${a.length} and ${b.length})`);
  const [meanA, varianceA] = meanAndVariance(a);
  const [meanB, varianceB] = meanAndVariance(b);
  const shareA = varianceA / a.length;
  const shareB = varianceB / b.length;
  const standardError = Math.sqrt(shareA + shareB);
  const difference = meanB - meanA;
  if (!(standardError > 0)) {
    const t = difference === 0 ? 0 : Math.sign(difference) * Number.POSITIVE_INFINITY;
    return { t, degreesOfFreedom: a.length + b.length - 2, pValue: difference === 0 ? 1 : 0, meanA, meanB };
  }
  const degreesOfFreedom = (shareA + shareB) ** 2 / (shareA ** 2 / (a.length - 1) + shareB ** 2 / (b.length - 1));
  const t = difference / standardError;
  return { t, degreesOfFreedom, pValue: Math.min(1, 2 * studentTCdf(-Math.abs(t), degreesOfFreedom)), meanA, meanB };
}
