/** The words under a verdict: the interval it was judged on, against the threshold. */
import { statisticsDefaults } from '../statistics';
import type { RegressionThreshold } from '../../shared/regression-schema';
import { formatValue } from '../../shared/units';
import type { Verdict } from './verdict';

/** A change in the threshold's terms: "+12.3 %", "-1.5 pp", "+4.20 ms". */
export function formatChange(kind: RegressionThreshold['kind'], value: number): string {
  const sign = value > 0 ? '+' : value < 0 ? '-' : '';
  const size = Math.abs(value);
  if (kind === 'relative') return `${sign}${(size * 100).toFixed(1)} %`;
  if (kind === 'points') return `${sign}${(size * 100).toFixed(1)} pp`;
  return `${sign}${formatValue('duration', size)}`;
}

export function explainVerdict(verdict: Verdict, interval: readonly [number, number], threshold: RegressionThreshold): string {
  const level = `${Math.round(statisticsDefaults.confidence * 100)} % interval`;
  const kind = threshold.kind;
  const span = `${level} ${formatChange(kind, interval[0])} .. ${formatChange(kind, interval[1])}`;
  const limit = threshold.text.replace(/^[+-]/, '');
  switch (verdict) {
    case 'regressed':
      return `${span}: significant, and worse by more than ${limit}`;
    case 'improved':
      return `${span}: significant, and better by more than ${limit}`;
    case 'unchanged':
      return `${span}: within ±${limit}`;
    case 'inconclusive':
      return `${span}: reaches past ±${limit} without a significant change beyond it`;
  }
}
