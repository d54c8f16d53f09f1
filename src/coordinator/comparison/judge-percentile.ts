/**
 * A percentile of two HdrHistograms compared: the bootstrap interval of its change
 * (`percentileInterval`), judged against the threshold. Used for latencies (microsecond
 * histograms) and for throughput (a histogram of per-window rates).
 */
import type { Histogram } from '../../shared/histogram';
import type { RegressionThreshold } from '../../shared/regression-schema';
import { percentileInterval } from '../statistics';
import { explainVerdict } from './explain-verdict';
import type { MetricComparison } from './metric-comparison';
import { judgeChange } from './verdict';

export type Judgement = Pick<MetricComparison, 'interval' | 'verdict' | 'reason' | 'method' | 'samples'>;

export interface PercentileJudgeInput {
  base: Histogram;
  new: Histogram;
  percentile: number;
  threshold: Exclude<RegressionThreshold, { kind: 'off' }>;
  worse: 1 | -1;
  /** Fewest values each side needs. */
  minCount: number;
  /** What a value is, plural: "requests", "windows". */
  unitWords: string;
  /** Histogram units per millisecond, for absolute thresholds (1000 for microseconds). */
  perMs: number;
}

export function judgePercentile(input: PercentileJudgeInput): Judgement {
  const samples: [number, number] = [input.base.totalCount, input.new.totalCount];
  const method = `bootstrap interval of p${input.percentile}`;
  if (samples[0] < input.minCount || samples[1] < input.minCount) {
    return {
      interval: null,
      verdict: 'inconclusive',
      reason: `too few ${input.unitWords} to tell: ${samples[0]} and ${samples[1]} (p${input.percentile} needs ${input.minCount} each)`,
      method,
      samples,
    };
  }
  const result = percentileInterval(input.base, input.new, input.percentile);
  if (!result) return { interval: null, verdict: 'inconclusive', reason: 'no values on one side', method, samples };
  let change: number;
  let interval: [number, number];
  if (input.threshold.kind === 'relative') {
    if (result.ratio === null || result.ratioInterval === null) {
      return { interval: null, verdict: 'inconclusive', reason: 'BASE is 0: no relative change', method, samples };
    }
    change = result.ratio - 1;
    interval = [result.ratioInterval[0] - 1, result.ratioInterval[1] - 1];
  } else {
    change = result.difference / input.perMs;
    interval = [result.differenceInterval[0] / input.perMs, result.differenceInterval[1] / input.perMs];
  }
  const verdict = judgeChange(change, interval, input.threshold.value, input.worse);
  return { interval, verdict, reason: explainVerdict(verdict, interval, input.threshold), method, samples };
}
