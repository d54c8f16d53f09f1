/**
 * Success criteria as data: `latency.e2e.p95: "< 1s"`. Parsed against the metric registry so that a
 * wrong metric name or a wrong unit is a plan error, and evaluated on the merged phase metrics.
 */
import { METRICS, type PhaseMetrics } from './phase-metrics';
import { formatValue, parseValue, UNIT_EXAMPLE, type UnitKind } from './units';
import { closest } from './suggest';

export type Operator = '<' | '<=' | '>' | '>=';

export interface Criterion {
  metric: string;
  op: Operator;
  /** Threshold in the metric's base unit (ms, bytes, fraction, count). */
  threshold: number;
  kind: UnitKind;
  /** As written in the plan, such as "< 1s". */
  text: string;
}

export interface CriterionResult extends Criterion {
  value: number | null;
  passed: boolean;
  /** value - threshold, in the base unit; null when there was no value. */
  margin: number | null;
  /** One line for people: "p95 1.23 s is not < 1 s (over by 230 ms)". */
  verdict: string;
}

const CONDITION = /^\s*(<=|>=|<|>)\s*(.+?)\s*$/;

/** Parses one criterion; returns `{ error }` naming the fix when it is wrong. */
export function parseCriterion(metric: string, condition: string): Criterion | { error: string } {
  const definition = METRICS[metric];
  if (!definition) {
    const guess = closest(metric, Object.keys(METRICS));
    return { error: `unknown metric "${metric}": ${guess ? `did you mean "${guess}"?` : `use one of ${Object.keys(METRICS).join(', ')}`}` };
  }
  const match = CONDITION.exec(condition);
  if (!match) {
    return { error: `condition must be an operator (<, <=, >, >=) and a value, such as "< ${UNIT_EXAMPLE[definition.kind].split(',')[0]!.replace(/"/g, '')}" (got "${condition}")` };
  }
  const threshold = parseValue(definition.kind, match[2] as string);
  if (threshold === undefined) {
    return { error: `"${match[2]}" is not a ${definition.kind} value: write it like ${UNIT_EXAMPLE[definition.kind]}` };
  }
  return { metric, op: match[1] as Operator, threshold, kind: definition.kind, text: condition.trim() };
}

function holds(value: number, op: Operator, threshold: number): boolean {
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
  }
}

/** Evaluates a criterion on merged metrics. A metric without data fails: nothing was shown. */
export function evaluateCriterion(criterion: Criterion, metrics: PhaseMetrics): CriterionResult {
  const definition = METRICS[criterion.metric];
  const value = definition ? definition.read(metrics) : null;
  if (value === null || Number.isNaN(value)) {
    return { ...criterion, value: null, passed: false, margin: null, verdict: `no data for ${criterion.metric}: the phase measured nothing it could be judged on` };
  }
  const passed = holds(value, criterion.op, criterion.threshold);
  const margin = value - criterion.threshold;
  const shown = formatValue(criterion.kind, value);
  const limit = formatValue(criterion.kind, criterion.threshold);
  const by = formatValue(criterion.kind, Math.abs(margin));
  const verdict = passed
    ? `${shown} ${criterion.op} ${limit}`
    : `${shown} is not ${criterion.op} ${limit} (${margin > 0 ? 'over' : 'under'} by ${by})`;
  return { ...criterion, value, passed, margin, verdict };
}
