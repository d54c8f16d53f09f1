/**
 * A phase's criteria as lines on the charts that show what they judge: `latency.e2e.p95 < 1s` as
 * a line at 1 s on the e2e chart, `memory.target.peak < 14GB` on the target memory chart. Each
 * chart says which metrics it draws and where; the others are left to the criteria table.
 */
import type { CriterionResult } from '../../../shared/criteria';
import { formatValue } from '../../../shared/units';
import type { ThresholdSpec } from './chart-spec';
import { rounded } from './chart-values';

/** Where a criterion's threshold goes on a chart. */
export interface LinePlacement {
  /** Short name in the line's label, such as "p95" on the e2e chart; default: the metric. */
  name?: string;
  /** Added to the threshold: a growth limit is drawn above the starting level. */
  offset?: number;
  /** Multiplies the threshold: ratios are drawn on percent axes (x 100). */
  factor?: number;
  xFrom?: number;
  xTo?: number;
}

/** The line of one criterion, labelled "p95 < 1.00 s". */
function criterionLine(criterion: CriterionResult, placement: LinePlacement = {}): ThresholdSpec {
  const { name = criterion.metric, offset = 0, factor = 1 } = placement;
  return {
    label: `${name} ${criterion.op} ${formatValue(criterion.kind, criterion.threshold)}`,
    value: rounded(criterion.threshold * factor + offset),
    passed: criterion.passed,
    metric: criterion.metric,
    ...(placement.xFrom === undefined ? {} : { xFrom: placement.xFrom }),
    ...(placement.xTo === undefined ? {} : { xTo: placement.xTo }),
  };
}

/** Lines of the criteria that `place` places (it returns undefined for the others). */
export function criterionLines(
  criteria: readonly CriterionResult[],
  place: (metric: string) => LinePlacement | undefined,
): ThresholdSpec[] {
  const lines: ThresholdSpec[] = [];
  for (const criterion of criteria) {
    const placement = place(criterion.metric);
    if (placement) lines.push(criterionLine(criterion, placement));
  }
  return lines;
}

/** "stability > 99.00 % (95.00 %, fail)": a criterion a chart judges but cannot draw as a line, for its caption. */
export function criterionNote(criterion: CriterionResult): string {
  const value = formatValue(criterion.kind, criterion.value);
  const threshold = formatValue(criterion.kind, criterion.threshold);
  return `${criterion.metric} ${criterion.op} ${threshold} (${value}, ${criterion.passed ? 'pass' : 'fail'})`;
}
