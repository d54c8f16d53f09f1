/**
 * Mann-Whitney U test (Wilcoxon rank-sum) of two HdrHistograms, computed on their bucket lists
 * without expanding them into samples.
 */
import type { Histogram } from '../../shared/histogram';
import { normalCdf } from './distributions';
import { histogramValues } from './histogram-values';

/** Outcome of `rankTest(base, new)`; "new greater" means NEW tends to give larger values than BASE. */
export interface RankTestResult {
  /**
   * U statistic of NEW: the number of (new, base) pairs with new > base, plus half the tied pairs.
   * Equals scipy's `mannwhitneyu(new, base).statistic`.
   */
  u: number;
  /**
   * (u - nBase nNew / 2) / sigma, moved 0.5 towards zero (continuity correction) and clamped at 0;
   * sigma is the tie-corrected standard deviation of U. Positive when NEW tends to be greater.
   */
  z: number;
  /** Two-sided p-value (H0: neither side stochastically greater); scipy `alternative='two-sided'`. */
  pValue: number;
  /** One-sided p-value against "NEW stochastically greater than BASE"; scipy `alternative='greater'`. */
  pGreater: number;
  /** One-sided p-value against "NEW stochastically less than BASE"; scipy `alternative='less'`. */
  pLess: number;
  /**
   * Common-language effect size P(new > base) + P(new = base) / 2 = u / (nBase nNew): 0.5 when the
   * two are exchangeable, 1 when every NEW value exceeds every BASE value.
   */
  probabilityOfSuperiority: number;
  nBase: number;
  nNew: number;
}

/**
 * Mann-Whitney U test of NEW against BASE, from histograms of any size in O(distinct values).
 *
 * Method: walk the two ascending bucket lists merged; at each distinct value v with a BASE count
 * a and a NEW count b, add b (baseBelow + a / 2) to U (each NEW value beats every smaller BASE
 * value and ties half of the equal ones: midranks), and t^3 - t with t = a + b to the tie term. Then
 * mean nB nN / 2, variance nB nN / 12 ((N + 1) - sum(t^3 - t) / (N (N - 1))) with N = nB + nN,
 * and the normal approximation with a continuity correction of 0.5, exactly as scipy's
 * `mannwhitneyu(new, base, use_continuity=True, method='asymptotic')`. The normal approximation is
 * good from a few dozen values per side; below that (a very short phase) the p-values are rough.
 * Values within one histogram bucket (0.1 %) count as ties.
 *
 * Returns null when either histogram is empty: there is nothing to compare. When every value of
 * both sides falls in one bucket the variance is 0: z is 0, the p-values are 1.
 */
export function rankTest(baseHistogram: Histogram, newHistogram: Histogram): RankTestResult | null {
  const base = histogramValues(baseHistogram);
  const next = histogramValues(newHistogram);
  const nBase = base.totalCount;
  const nNew = next.totalCount;
  if (nBase === 0 || nNew === 0) return null;

  let u = 0;
  let baseBelow = 0;
  let tieTerm = 0;
  let i = 0;
  let j = 0;
  const baseLength = base.values.length;
  const newLength = next.values.length;
  while (i < baseLength || j < newLength) {
    // HdrHistogram values are >= 0, so -1 marks a side that has run out.
    const baseValue = i < baseLength ? base.values[i]! : -1;
    const newValue = j < newLength ? next.values[j]! : -1;
    const takeBase = baseValue >= 0 && (newValue < 0 || baseValue <= newValue);
    const takeNew = newValue >= 0 && (baseValue < 0 || newValue <= baseValue);
    const a = takeBase ? base.counts[i++]! : 0;
    const b = takeNew ? next.counts[j++]! : 0;
    u += b * (baseBelow + a / 2);
    baseBelow += a;
    const tied = a + b;
    tieTerm += tied * tied * tied - tied;
  }

  const pairs = nBase * nNew;
  const total = nBase + nNew;
  const mean = pairs / 2;
  // total >= 2 here, so N (N - 1) > 0.
  const variance = (pairs / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  const deviation = u - mean;
  const probabilityOfSuperiority = u / pairs;
  if (!(variance > 0)) {
    return { u, z: 0, pValue: 1, pGreater: 1, pLess: 1, probabilityOfSuperiority, nBase, nNew };
  }
  const sigma = Math.sqrt(variance);
  const z = (Math.sign(deviation) * Math.max(0, Math.abs(deviation) - 0.5)) / sigma;
  return {
    u,
    z,
    pValue: Math.min(1, 2 * normalCdf(-Math.abs(z))),
    pGreater: normalCdf(-(deviation - 0.5) / sigma),
    pLess: normalCdf((deviation + 0.5) / sigma),
    probabilityOfSuperiority,
    nBase,
    nNew,
  };
}
