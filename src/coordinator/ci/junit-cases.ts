/**
 * A run's verdict as JUnit test cases, for CI servers that show and gate on JUnit XML: one suite
 * per phase, one case per criterion (a failure carries the verdict and the margin), one case for the
 * phase's own verdict (did it run to its end, was the load generator trustworthy), and one case per
 * regression check against a baseline. A phase that did not pass always has a failing case, and a
 * phase that passed never does.
 */
import type { CriterionResult } from '../../shared/criteria';
import type { PhaseReport, RunReport } from '../../shared/run-report';
import { formatValue } from '../../shared/units';
import type { RegressionCheck } from './regression-check';
import { untrustworthyFails } from './untrustworthy-fails';

/** What a JUnit test case says happened; `output` goes to its system-out. */
type JunitOutcome =
  | { kind: 'passed'; output?: string }
  | { kind: 'failure' | 'error'; message: string; type: string; body: string }
  | { kind: 'skipped'; message: string };

export interface JunitCase {
  name: string;
  classname: string;
  seconds?: number;
  outcome: JunitOutcome;
}

export interface JunitSuite {
  name: string;
  seconds: number;
  properties: Record<string, string>;
  cases: JunitCase[];
}

/** The name of the case that holds a phase's own verdict. */
export const PHASE_VERDICT_CASE = 'phase verdict';

function criterionCase(criterion: CriterionResult, classname: string): JunitCase {
  const name = `${criterion.metric} ${criterion.text}`;
  if (criterion.passed) return { name, classname, outcome: { kind: 'passed', output: criterion.verdict } };
  const { kind, margin } = criterion;
  const marginLine =
    margin === null ? 'margin: none (no value)' : `margin: ${margin > 0 ? 'over' : 'under'} by ${formatValue(kind, Math.abs(margin))}`;
  const body = [
    `metric: ${criterion.metric}`,
    `value: ${formatValue(kind, criterion.value)}`,
    `threshold: ${criterion.op} ${formatValue(kind, criterion.threshold)} (written "${criterion.text}")`,
    marginLine,
  ].join('\n');
  return { name, classname, outcome: { kind: 'failure', message: criterion.verdict, type: 'criterion', body } };
}

/** The phase's verdict apart from its criteria: an error, an early stop, an untrustworthy generator. */
function phaseVerdictCase(report: RunReport, phase: PhaseReport, classname: string): JunitCase {
  const base = { name: PHASE_VERDICT_CASE, classname, seconds: phase.metrics.durationMs / 1000 };
  const { stopped, generator } = phase.metrics;
  const untrustworthy = generator.trustworthy ? undefined : `load generator not trustworthy: ${generator.warnings.join('; ')}`;
  const failing = [
    ...(stopped ? [`stopped early: ${stopped.reason}`] : []),
    ...(untrustworthy && untrustworthyFails(report, phase) ? [untrustworthy] : []),
  ];
  if (phase.error) {
    const body = [`did not complete: ${phase.error.message}`, ...failing].join('\n');
    return { ...base, outcome: { kind: 'error', message: `did not complete: ${phase.error.message}`, type: phase.error.code, body } };
  }
  if (failing.length > 0) {
    return { ...base, outcome: { kind: 'failure', message: failing.join('; '), type: 'phase', body: failing.join('\n') } };
  }
  const criteriaFailed = phase.criteria.some((criterion) => !criterion.passed);
  if (!phase.passed && !criteriaFailed) {
    // A reason this writer does not know yet: still a failure, never a green phase that failed.
    const message = 'the phase did not pass (see report.md)';
    return { ...base, outcome: { kind: 'failure', message, type: 'phase', body: message } };
  }
  const output = [
    'ran to its planned end',
    ...(untrustworthy ? [`${untrustworthy} (reported, not failed: generator.failOnUntrustworthy is false)`] : []),
  ].join('\n');
  return { ...base, outcome: { kind: 'passed', output } };
}

function regressionCase(check: RegressionCheck, classname: string): JunitCase {
  const name = `regression ${check.metric}`;
  switch (check.verdict) {
    case 'regressed':
      return {
        name,
        classname,
        outcome: { kind: 'failure', message: `regressed: ${check.detail}`, type: 'regression', body: check.detail },
      };
    case 'inconclusive':
      return { name, classname, outcome: { kind: 'skipped', message: `inconclusive: ${check.detail}` } };
    case 'improved':
    case 'unchanged':
      return { name, classname, outcome: { kind: 'passed', output: `${check.verdict}: ${check.detail}` } };
  }
}

/** Names of the phases the plan has and the report lacks (an interrupted run skips the rest). */
function phasesNotRun(report: RunReport): string[] {
  const planned = (report.resolvedPlan as { phases?: unknown } | null)?.phases;
  if (!Array.isArray(planned)) return [];
  const ran = new Set(report.phases.map((phase) => phase.name));
  return (planned as Array<{ name?: unknown }>)
    .map((phase) => phase.name)
    .filter((name): name is string => typeof name === 'string' && !ran.has(name));
}

/** The suites of a run: one per phase (run or skipped), and one per phase that only regression checks name. */
export function junitSuites(report: RunReport, regressions: readonly RegressionCheck[] = []): JunitSuite[] {
  const classnameOf = (phase: string) => `${report.plan.name}.${phase}`;
  const checksOf = (phase: string) => regressions.filter((check) => check.phase === phase);
  const properties = (phase: string) => ({
    'grym-perf.run-id': report.runId,
    'grym-perf.plan': report.plan.source,
    'grym-perf.phase': phase,
  });
  const ran = report.phases.map((phase): JunitSuite => ({
    name: phase.name,
    seconds: phase.metrics.durationMs / 1000,
    properties: { ...properties(phase.name), 'grym-perf.models': phase.models.join(', ') },
    cases: [
      ...phase.criteria.map((criterion) => criterionCase(criterion, classnameOf(phase.name))),
      phaseVerdictCase(report, phase, classnameOf(phase.name)),
      ...checksOf(phase.name).map((check) => regressionCase(check, classnameOf(phase.name))),
    ],
  }));
  const skipped = phasesNotRun(report).map((name): JunitSuite => ({
    name,
    seconds: 0,
    properties: properties(name),
    cases: [
      {
        name: PHASE_VERDICT_CASE,
        classname: classnameOf(name),
        outcome: { kind: 'skipped', message: 'not run: the run was interrupted before this phase' },
      },
      ...checksOf(name).map((check) => regressionCase(check, classnameOf(name))),
    ],
  }));
  const known = new Set([...ran, ...skipped].map((suite) => suite.name));
  const onlyCompared = [...new Set(regressions.map((check) => check.phase))]
    .filter((name) => !known.has(name))
    .map((name): JunitSuite => ({
      name,
      seconds: 0,
      properties: properties(name),
      cases: checksOf(name).map((check) => regressionCase(check, classnameOf(name))),
    }));
  return [...ran, ...skipped, ...onlyCompared];
}
