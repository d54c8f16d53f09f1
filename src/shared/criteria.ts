/**
 * Success criteria as data: `latency.e2e.p95: "< 1s"`. Parsed against the metric registry so that a
 * wrong metric name or a wrong unit is a plan error, and evaluated on the merged phase metrics.
 */
import { shown } from './describe-issues';
import { METRICS, type MetricRequirement, type PhaseMetrics } from './phase-metrics';
import { formatValue, parseValue, TARGET_MEMORY_UNITS, UNIT_EXAMPLE, type UnitKind } from './units';
import { closest } from './suggest';

type Operator = '<' | '<=' | '>' | '>=';

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

/** The first example of a unit kind, unquoted: "1s". */
const firstExample = (kind: UnitKind) => (UNIT_EXAMPLE[kind].split(',')[0] as string).replace(/"/g, '');

/** Every metric a criterion may name. */
export const METRIC_NAMES: readonly string[] = Object.freeze(Object.keys(METRICS));

/** The metric names, families folded: "latency.e2e.{p50,p90,...}, requests.{total,errors}, stability". */
function metricList(): string {
  const families = new Map<string, string[]>();
  for (const name of METRIC_NAMES) {
    const cut = name.lastIndexOf('.');
    const family = cut < 0 ? name : name.slice(0, cut);
    families.set(family, [...(families.get(family) ?? []), cut < 0 ? '' : name.slice(cut + 1)]);
  }
  return [...families.entries()]
    .map(([family, members]) => {
      if (members.length > 1) return `${family}.{${members.join(',')}}`;
      return members[0] ? `${family}.${members[0]}` : family;
    })
    .join(', ');
}

// Trimmed first, so that the value needs no `\s*` before the end: `(.+?)\s*$` is quadratic on long runs of spaces.
const CONDITION = /^(<=|>=|<|>)\s*(.+)$/;

/**
 * Parses one criterion; returns `{ error }` naming the fix when it is wrong. `kind`: the unit the
 * metric is in for this plan (a target memory metric follows `target.memory.unit`); without it, a
 * target memory metric takes any unit a memory source can have, and the plan checks it against its target.
 */
export function parseCriterion(metric: string, condition: string, kind?: UnitKind): Criterion | { error: string } {
  // Own names only: "constructor" or "toString" are properties of every object, not metrics.
  const definition = Object.hasOwn(METRICS, metric) ? METRICS[metric] : undefined;
  if (!definition) {
    const guess = closest(metric, METRIC_NAMES);
    return { error: `unknown metric ${shown(metric)}: ${guess ? `did you mean "${guess}"?` : `use one of ${metricList()}`}` };
  }
  const match = CONDITION.exec(condition.trim());
  if (!match) {
    const example = `"< ${firstExample(definition.kind)}"`;
    return { error: `condition must be an operator (<, <=, >, >=) and a value, such as ${example} (got ${shown(condition)})` };
  }
  const written = match[2] as string;
  const kinds: readonly UnitKind[] = kind ? [kind] : definition.inTargetMemoryUnit ? TARGET_MEMORY_UNITS : [definition.kind];
  const parsedKind = kinds.find((candidate) => parseValue(candidate, written) !== undefined);
  if (parsedKind === undefined) {
    const wanted = kinds[0] as UnitKind;
    return { error: `${shown(written)} is not a ${wanted} value: write it like ${UNIT_EXAMPLE[wanted]}` };
  }
  const threshold = parseValue(parsedKind, written) as number;
  // A 400-digit number parses to Infinity: "< Infinity" would pass whatever was measured.
  if (!Number.isFinite(threshold)) {
    return { error: `${shown(written)} is too large to compare with: write a threshold a measurement can reach` };
  }
  return { metric, op: match[1] as Operator, threshold, kind: parsedKind, text: condition.trim() };
}

/** What a phase and its target offer for measuring: what the plan's cross-checks compare metrics with. */
export interface MeasuringSetup {
  scenario: 'requests' | 'model-switch';
  loadMode: 'closed' | 'open';
  contextFacts: number;
  target: { kind: 'openai' | 'ollama' | 'module'; stream: boolean; memorySource: string; mock: boolean };
}

interface Requirement {
  holds(setup: MeasuringSetup): boolean;
  /** Why the metric cannot be measured in this setup, then the fix. */
  why(setup: MeasuringSetup): string;
}

const REQUIREMENTS: Record<MetricRequirement, Requirement> = {
  'model-switch': {
    holds: (setup) => setup.scenario === 'model-switch',
    why: (setup) => `only scenario "model-switch" switches models (this phase is "${setup.scenario}"): move it to a model-switch phase`,
  },
  'open-loop': {
    holds: (setup) => setup.scenario === 'requests' && setup.loadMode === 'open',
    why: (setup) =>
      `it is measured from scheduled arrivals, which only open-loop load has (this phase is ${
        setup.scenario === 'model-switch' ? 'a model-switch phase' : 'closed-loop'
      }): give the load \`mode: open\` and a \`rate\``,
  },
  streaming: {
    holds: (setup) => setup.target.kind !== 'module' && setup.target.stream,
    why: (setup) =>
      setup.target.kind === 'module'
        ? 'it needs streamed chunks, and a module target returns whole answers: judge latency.e2e instead'
        : 'it needs streamed chunks, and target.stream is false: set target.stream: true',
  },
  'target-memory': {
    // A mock target's memory is read from the mock's /api/ps, a module's from the worker threads' heaps.
    holds: (setup) => setup.target.kind === 'module' || setup.target.mock || setup.target.memorySource !== 'none',
    why: () => 'target.memory.source is "none": set target.memory (source ollama-ps, pid or prometheus)',
  },
  'context-probes': {
    holds: (setup) => setup.contextFacts > 0,
    why: () => 'context.facts is 0, so no fact is planted or probed: add `context: { facts: 3 }`',
  },
  'load-times': {
    holds: (setup) => setup.target.kind === 'ollama',
    why: (setup) => `only Ollama's native API reports model load times (target.kind is "${setup.target.kind}"): use target.kind: ollama`,
  },
};

/** Why `metric` can never be measured in `setup`, ending with the fix; undefined when it can. */
export function unmeasurableReason(metric: string, setup: MeasuringSetup): string | undefined {
  const definition = Object.hasOwn(METRICS, metric) ? METRICS[metric] : undefined;
  const unmet = definition?.requires?.find((requirement) => !REQUIREMENTS[requirement].holds(setup));
  return unmet ? `can never be measured here: ${REQUIREMENTS[unmet].why(setup)}, or remove the criterion` : undefined;
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
  const definition = Object.hasOwn(METRICS, criterion.metric) ? METRICS[criterion.metric] : undefined;
  return judgeCriterion(criterion, definition ? definition.read(metrics) : null);
}

/** Judges a criterion on a value of its metric, however it was measured (the report's merged metrics, or live windows). */
export function judgeCriterion(criterion: Criterion, value: number | null): CriterionResult {
  if (value === null || Number.isNaN(value)) {
    return {
      ...criterion,
      value: null,
      passed: false,
      margin: null,
      verdict: `no data for ${criterion.metric}: the phase measured nothing it could be judged on`,
    };
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
