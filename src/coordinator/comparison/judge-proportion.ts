/**
 * A ratio of two runs compared on its counts (errors of requests, facts recalled of probed, stable
 * windows of windows): Newcombe's interval of the difference (`proportionTest`), judged against a
 * threshold in percentage points.
 */
import type { RegressionThreshold } from '../../shared/regression-schema';
import { proportionTest, type ProportionCounts } from '../statistics';
import { explainVerdict } from './explain-verdict';
import type { Judgement } from './judge-percentile';
import { judgeChange } from './verdict';

export function judgeProportion(
  base: ProportionCounts,
  next: ProportionCounts,
  threshold: Exclude<RegressionThreshold, { kind: 'off' }>,
  worse: 1 | -1,
  minCount: number,
  unitWords: string,
): Judgement {
  const samples: [number, number] = [base.total, next.total];
  if (base.total < minCount || next.total < minCount) {
    return {
      interval: null,
      verdict: 'inconclusive',
      reason: `too few ${unitWords} to tell: ${base.total} and ${next.total} (needs ${minCount} each)`,
      method: 'counts',
      samples,
    };
  }
  const result = proportionTest(base, next);
  if (!result) return { interval: null, verdict: 'inconclusive', reason: `no ${unitWords} on one side`, method: 'counts', samples };
  const method = `Newcombe interval (p = ${result.pValue.toPrecision(2)}, ${result.method})`;
  if (threshold.kind !== 'points') {
    return { interval: null, verdict: 'inconclusive', reason: `threshold ${threshold.text} is not in pp`, method, samples };
  }
  const verdict = judgeChange(result.difference, result.interval, threshold.value, worse);
  return { interval: result.interval, verdict, reason: explainVerdict(verdict, result.interval, threshold), method, samples };
}
