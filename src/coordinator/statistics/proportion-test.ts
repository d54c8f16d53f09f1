/**
 * Two-sample comparison of proportions (error rate, context recall): a p-value for "the rates
 * differ" and a confidence interval for NEW's rate minus BASE's.
 */
import { logGamma, normalCdf, normalQuantile } from './distributions';
import { statisticsDefaults } from './statistics-defaults';

/** `count` events out of `total` trials (errors / measured requests, recalled / probes). */
export interface ProportionCounts {
  /** Events, an integer in [0, total]. */
  count: number;
  /** Trials, an integer >= 0. */
  total: number;
}

export interface ProportionTestOptions {
  /** Two-sided confidence level of the interval, in (0, 1). Default 0.95. */
  confidence?: number;
}

/** Which test produced `pValue`. */
export type ProportionTestMethod = 'fisher-exact' | 'two-proportion-z';

export interface ProportionTestResult {
  /** BASE count / total. */
  baseRate: number;
  /** NEW count / total. */
  newRate: number;
  /** newRate - baseRate. */
  difference: number;
  /** Newcombe's hybrid score (Wilson) interval for `difference` at `confidence`, within [-1, 1]. */
  interval: [number, number];
  /** Two-sided p-value of "the two rates are equal". */
  pValue: number;
  method: ProportionTestMethod;
  confidence: number;
}

function checkCounts(name: string, counts: ProportionCounts): void {
  const { count, total } = counts;
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`proportionTest: ${name}.total must be an integer >= 0 (got ${total})`);
  if (!Number.isInteger(count) || count < 0 || count > total) {
    throw new RangeError(`proportionTest: ${name}.count must be an integer in [0, ${name}.total = ${total}] (got ${count})`);
  }
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

// Tables whose probability is within this factor of the observed one count as "as extreme": R's
// fisher.test uses 1 + 1e-7, wide enough that rounding in the log-gammas cannot split two tables
// that are mathematically equally likely (a symmetric table), narrow enough to separate distinct
// hypergeometric probabilities at these sizes.
const LOG_RELATIVE_TOLERANCE = Math.log1p(1e-7);

/**
 * Two-sided Fisher exact test of the 2 x 2 table [[base.count, base rest], [new.count, new rest]]:
 * the sum of the hypergeometric probabilities (margins fixed) of every table no more likely than
 * the observed one, as scipy's `fisher_exact` and R's `fisher.test`. O(support) log-gammas.
 */
function fisherExactPValue(base: ProportionCounts, next: ProportionCounts): number {
  const events = base.count + next.count;
  const total = base.total + next.total;
  const logDenominator = logChoose(total, events);
  const logProbability = (x: number) => logChoose(base.total, x) + logChoose(next.total, events - x) - logDenominator;
  const threshold = logProbability(base.count) + LOG_RELATIVE_TOLERANCE;
  const low = Math.max(0, events - next.total);
  const high = Math.min(events, base.total);
  const included: number[] = [];
  let largest = Number.NEGATIVE_INFINITY;
  for (let x = low; x <= high; x++) {
    const logP = logProbability(x);
    if (logP > threshold) continue;
    included.push(logP);
    if (logP > largest) largest = logP;
  }
  // Log-sum-exp: a p-value of 1e-200 keeps its digits instead of summing underflowed terms.
  let scaled = 0;
  for (const logP of included) scaled += Math.exp(logP - largest);
  return Math.min(1, Math.exp(largest) * scaled);
}

/** Pooled two-proportion z-test, two-sided, no continuity correction (= Pearson's chi-square 2 x 2). */
function twoProportionZPValue(base: ProportionCounts, next: ProportionCounts): number {
  const pooled = (base.count + next.count) / (base.total + next.total);
  const standardError = Math.sqrt(pooled * (1 - pooled) * (1 / base.total + 1 / next.total));
  if (!(standardError > 0)) return 1;
  const z = (next.count / next.total - base.count / base.total) / standardError;
  return Math.min(1, 2 * normalCdf(-Math.abs(z)));
}

/** Wilson score interval of count / total at the normal quantile z. */
function wilsonInterval(counts: ProportionCounts, z: number): [number, number] {
  const { count, total } = counts;
  const rate = count / total;
  const zSquared = z * z;
  const center = (count + zSquared / 2) / (total + zSquared);
  const halfWidth = ((z * Math.sqrt(total)) / (total + zSquared)) * Math.sqrt(rate * (1 - rate) + zSquared / (4 * total));
  return [Math.max(0, center - halfWidth), Math.min(1, center + halfWidth)];
}

/**
 * Compares NEW's rate with BASE's.
 *
 * p-value: two-sided Fisher exact test when the counts are small, i.e. when the two totals add up
 * to at most 1000 or any expected cell of the 2 x 2 table (row total x column total / grand total)
 * is below 5; otherwise the pooled two-proportion z-test, z = (p_new - p_base) / sqrt(p (1 - p)
 * (1 / n_base + 1 / n_new)) with p the pooled rate, where the normal approximation is good and
 * Fisher's sum would be long.
 *
 * Interval: Newcombe's method 10 (hybrid score, 1998) for p_new - p_base: with (l, u) the Wilson
 * score interval of each rate at `confidence`, [d - sqrt((p_new - l_new)^2 + (u_base - p_base)^2),
 * d + sqrt((u_new - p_new)^2 + (p_base - l_base)^2)]. It keeps its coverage at rates of 0 and near
 * 0, where the Wald interval collapses to a point.
 *
 * Returns null when either side has no trials. Throws RangeError for counts that are not integers
 * with 0 <= count <= total, or a confidence outside (0, 1).
 */
export function proportionTest(
  base: ProportionCounts,
  next: ProportionCounts,
  options: ProportionTestOptions = {},
): ProportionTestResult | null {
  checkCounts('base', base);
  checkCounts('new', next);
  const confidence = options.confidence ?? statisticsDefaults.confidence;
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`proportionTest: options.confidence must be in (0, 1), e.g. 0.95 (got ${confidence})`);
  if (base.total === 0 || next.total === 0) return null;

  const total = base.total + next.total;
  const events = base.count + next.count;
  const smallestExpectedCell = (Math.min(base.total, next.total) * Math.min(events, total - events)) / total;
  const method: ProportionTestMethod =
    total <= statisticsDefaults.fisherMaxTotal || smallestExpectedCell < statisticsDefaults.fisherMinExpectedCell
      ? 'fisher-exact'
      : 'two-proportion-z';
  const pValue = method === 'fisher-exact' ? fisherExactPValue(base, next) : twoProportionZPValue(base, next);

  const baseRate = base.count / base.total;
  const newRate = next.count / next.total;
  const difference = newRate - baseRate;
  const z = normalQuantile((1 + confidence) / 2);
  const [baseLow, baseHigh] = wilsonInterval(base, z);
  const [newLow, newHigh] = wilsonInterval(next, z);
  const interval: [number, number] = [
    Math.max(-1, difference - Math.hypot(newRate - newLow, baseHigh - baseRate)),
    Math.min(1, difference + Math.hypot(newHigh - newRate, baseRate - baseLow)),
  ];
  return { baseRate, newRate, difference, interval, pValue, method, confidence };
}
