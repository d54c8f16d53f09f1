/**
 * The verdict on one metric from its change and the confidence interval of that change, against
 * the practical threshold t (> 0) in the metric's worse direction. With d the change and [lo, hi]
 * its interval, both turned so that positive is worse:
 * - regressed: lo > 0 (the change is statistically significant, worse) and d > t (it matters);
 * - improved: hi < 0 and d < -t;
 * - unchanged: -t < lo and hi < t (whatever the change is, it is smaller than what matters);
 * - inconclusive: anything else: the interval reaches past the threshold without the change being
 *   both significant and large enough (too few or too noisy samples to tell).
 */
export type Verdict = 'regressed' | 'improved' | 'unchanged' | 'inconclusive';

export const VERDICTS: readonly Verdict[] = ['regressed', 'improved', 'unchanged', 'inconclusive'];

/** `worse`: +1 when larger values are worse, -1 when smaller ones are. */
export function judgeChange(change: number, interval: readonly [number, number], threshold: number, worse: 1 | -1): Verdict {
  const d = worse * change;
  const [lo, hi] = worse === 1 ? [interval[0], interval[1]] : [-interval[1], -interval[0]];
  if (lo > 0 && d > threshold) return 'regressed';
  if (hi < 0 && d < -threshold) return 'improved';
  if (lo > -threshold && hi < threshold) return 'unchanged';
  return 'inconclusive';
}

/**
 * The verdict of a whole comparison: regressed when any metric regressed, else improved when any
 * improved, else inconclusive when any metric is (or none could be judged), else unchanged.
 */
export function overallVerdict(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.length === 0) return 'inconclusive';
  for (const verdict of ['regressed', 'improved', 'inconclusive'] as const) if (verdicts.includes(verdict)) return verdict;
  return 'unchanged';
}
