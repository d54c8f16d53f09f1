/**
 * Why a phase failed, as the alert payload and JUnit say it: an untrustworthy load generator is a
 * reason only when the plan makes it one (`generator.failOnUntrustworthy`); otherwise it was
 * reported, and the phase failed on its criteria alone. Both outputs ask the same rule.
 */
import { buildAlertPayload } from '../../src/coordinator/alerts/alert-payload';
import { renderJunitXml } from '../../src/coordinator/ci/junit-report';
import type { RunReport } from '../../src/shared/run-report';
import { singleWindowSampleReport } from '../helpers/sample-report';

const BUSY =
  'the machine was busy with other processes: they used 1.27 of 2 cores (steal 0.00) while grym-perf used 0.46: rerun on a quieter machine';

/** A run whose one phase failed a criterion while its generator was untrustworthy; `failOn` is the plan's flag (unset: undefined). */
function failedRun(failOn: boolean | undefined): RunReport {
  const report = singleWindowSampleReport();
  const phase = report.phases[0]!;
  report.passed = false;
  phase.passed = false;
  phase.criteria = phase.criteria.map((criterion, index) => (index === 0 ? { ...criterion, passed: false } : criterion));
  phase.metrics.generator = { ...phase.metrics.generator, trustworthy: false, cause: 'machine', warnings: [BUSY] };
  const plan = report.resolvedPlan as { phases: Array<{ name: string; generator?: Record<string, unknown> }> };
  if (failOn !== undefined) plan.phases[0]!.generator = { ...plan.phases[0]!.generator, failOnUntrustworthy: failOn };
  return report;
}

test.each([
  ['the plan does not fail on it: reported, not a reason', false, []],
  ['the plan fails on it: a reason', true, [`load generator not trustworthy: ${BUSY}`]],
])('%s', (_, failOn, reasons) => {
  const report = failedRun(failOn);
  const payload = buildAlertPayload({ report, events: ['failure'], regressions: [], reports: {} });
  expect(payload.failedPhases).toEqual(reasons.length === 0 ? [] : [{ phase: report.phases[0]!.name, reasons }]);
  // JUnit: the phase verdict case fails for the generator exactly when the payload names it.
  const xml = renderJunitXml(report);
  expect(xml.includes('type="phase"')).toBe(failOn);
});
