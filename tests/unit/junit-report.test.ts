/**
 * `--junit`: the XML is checked by two outside readers, never by ours: xmllint (libxml2) says it is
 * well-formed, and test-results-parser (what testbeats and CI notifiers read JUnit with) reads the
 * counts, the cases and their failure messages back. Realistic reports from the sample producers,
 * with hostile text (markup, quotes, control characters) where users and servers write.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, type ITestCase, type ITestResult } from 'test-results-parser';
import { PHASE_VERDICT_CASE } from '../../src/coordinator/ci/junit-cases';
import { renderJunitXml } from '../../src/coordinator/ci/junit-report';
import type { RegressionCheck } from '../../src/coordinator/ci/regression-check';
import type { RunReport } from '../../src/shared/run-report';
import { fullSampleReport, HOSTILE, singleWindowSampleReport } from '../helpers/sample-report';

const dir = mkdtempSync(join(tmpdir(), 'grym-junit-'));
let fileCount = 0;

/** Writes the XML, has xmllint check it is well-formed, and reads it back as a JUnit consumer does. */
function consume(xml: string): ITestResult {
  const file = join(dir, `junit-${fileCount++}.xml`);
  writeFileSync(file, xml);
  // Throws (with libxml2's message) on anything that is not well-formed XML.
  execFileSync('xmllint', ['--noout', file], { stdio: 'pipe' });
  return parse({ type: 'junit', files: [file] });
}

const casesOf = (result: ITestResult, suite: string) => result.suites.find((s) => s.name === suite)?.cases ?? [];
const caseNamed = (cases: ITestCase[], name: string) => cases.find((c) => c.name === name);

const CHECKS: RegressionCheck[] = [
  { phase: 'ramp', metric: 'latency.e2e.p95', verdict: 'regressed', detail: 'p95 812 ms -> 1.02 s (+25.6%, p < 0.001) <over "+10%">' },
  { phase: 'ramp', metric: 'latency.ttft.p99', verdict: 'unchanged', detail: 'p99 210 ms -> 212 ms (+1%, p = 0.61)' },
  { phase: 'saturation', metric: 'requests.errorRate', verdict: 'inconclusive', detail: 'too few requests to tell (12 vs 9)' },
  { phase: 'switching', metric: 'switch.time.p95', verdict: 'improved', detail: 'p95 1.9 s -> 1.2 s (-37%, p < 0.01)' },
];

test('counts, cases and failure messages as a JUnit consumer reads them, one suite per phase', () => {
  const report = fullSampleReport();
  const result = consume(renderJunitXml(report, CHECKS));
  expect(result.suites.map((suite) => suite.name)).toEqual(report.phases.map((phase) => phase.name));

  const criteria = report.phases.flatMap((phase) => phase.criteria);
  const failedCriteria = criteria.filter((criterion) => !criterion.passed);
  expect(failedCriteria.length).toBeGreaterThan(0);
  const failedPhases = report.phases.filter((phase) => !phase.passed);
  // The consumer counts skipped cases apart from `total`.
  expect(result.total).toBe(criteria.length + report.phases.length + CHECKS.length - 1);
  expect(result.skipped).toBe(1);
  // Failures and errors: every failed criterion, the phases failed for their own reasons, one regression.
  const failedCases = result.suites.flatMap((suite) => suite.cases.filter((c) => c.status === 'FAIL'));
  expect(result.failed + result.errors).toBe(failedCases.length);

  for (const phase of report.phases) {
    const cases = casesOf(result, phase.name);
    for (const criterion of phase.criteria) {
      const testCase = caseNamed(cases, `${criterion.metric} ${criterion.text}`)!;
      expect(testCase).toBeDefined();
      expect(testCase.status).toBe(criterion.passed ? 'PASS' : 'FAIL');
      if (!criterion.passed) {
        // The message is the criterion's verdict; the body gives the margin.
        expect(testCase.failure).toBe(criterion.verdict);
        expect(testCase.stack_trace).toMatch(criterion.value === null ? /margin: none \(no value\)/ : /margin: (over|under) by \S+/);
      }
    }
    // A failed phase has a failing case, a passed phase none (a regression against a baseline is
    // not the phase's own failure: the sample's ramp passes, and its regressed check still fails).
    const ownCases = cases.filter((c) => !c.name.startsWith('regression '));
    expect(ownCases.some((c) => c.status === 'FAIL')).toBe(!phase.passed);
    expect(caseNamed(cases, PHASE_VERDICT_CASE)).toBeDefined();
  }
  expect(failedPhases.length).toBeGreaterThan(0);

  // The phase that was stopped says why in its verdict case.
  const stopped = report.phases.find((phase) => phase.metrics.stopped !== null)!;
  const stoppedCase = caseNamed(casesOf(result, stopped.name), PHASE_VERDICT_CASE)!;
  expect(stoppedCase.status).toBe('FAIL');
  expect(stoppedCase.failure).toContain(`stopped early: ${stopped.metrics.stopped!.reason}`);

  // Regression checks: regressed fails with its detail, inconclusive is skipped, the others pass.
  expect(caseNamed(casesOf(result, 'ramp'), 'regression latency.e2e.p95')).toMatchObject({
    status: 'FAIL',
    failure: `regressed: ${CHECKS[0]!.detail}`,
  });
  expect(caseNamed(casesOf(result, 'ramp'), 'regression latency.ttft.p99')!.status).toBe('PASS');
  expect(caseNamed(casesOf(result, 'saturation'), 'regression requests.errorRate')!.status).toBe('SKIP');
  expect(caseNamed(casesOf(result, 'switching'), 'regression switch.time.p95')!.status).toBe('PASS');
});

test('an untrustworthy generator is a failure only when the plan says so, and is always told', () => {
  const report = fullSampleReport();
  const soak = report.phases.find((phase) => !phase.metrics.generator.trustworthy)!;
  expect(soak).toBeDefined();
  const verdictCase = (r: RunReport) => caseNamed(casesOf(consume(renderJunitXml(r)), soak.name), PHASE_VERDICT_CASE)!;
  // The sample plan keeps the default (failOnUntrustworthy: false): reported, not failed.
  expect(verdictCase(report).status).toBe('PASS');
  expect(renderJunitXml(report)).toContain('load generator not trustworthy');

  const strict = structuredClone(report);
  const planned = (strict.resolvedPlan as { phases: Array<{ name: string; generator: { failOnUntrustworthy: boolean } }> }).phases;
  planned.find((phase) => phase.name === soak.name)!.generator.failOnUntrustworthy = true;
  strict.phases.find((phase) => phase.name === soak.name)!.passed = false;
  const failed = verdictCase(strict);
  expect(failed.status).toBe('FAIL');
  expect(failed.failure).toMatch(/^load generator not trustworthy: /);
});

test('a phase error is a JUnit error with its code; phases an interrupt skipped are skipped suites', () => {
  const report = singleWindowSampleReport();
  const broken = structuredClone(report);
  broken.phases[0]!.passed = false;
  broken.phases[0]!.error = { code: 'GRYM_ERR_SHARD_FAILED', message: '1 of 2 shard(s) of phase "smoke" failed (ECONNRESET)' };
  const result = consume(renderJunitXml(broken));
  expect(result.errors).toBe(1);
  expect(caseNamed(casesOf(result, 'smoke'), PHASE_VERDICT_CASE)).toMatchObject({
    status: 'FAIL',
    failure: 'did not complete: 1 of 2 shard(s) of phase "smoke" failed (ECONNRESET)',
  });
  expect(renderJunitXml(broken)).toMatch(/<error message="did not complete: [^"]*" type="GRYM_ERR_SHARD_FAILED">/);

  const interrupted = structuredClone(report);
  interrupted.aborted = true;
  interrupted.passed = false;
  (interrupted.resolvedPlan as { phases: Array<{ name: string }> }).phases.push({ name: 'never-started' });
  const skipped = consume(renderJunitXml(interrupted));
  expect(caseNamed(casesOf(skipped, 'never-started'), PHASE_VERDICT_CASE)!.status).toBe('SKIP');
});

test('whatever users and servers wrote comes back as the same text: escaped, never markup', () => {
  const report = fullSampleReport();
  const hostile = structuredClone(report);
  const errorsPhase = hostile.phases.find((phase) => phase.metrics.stopped !== null)!;
  // A server's error body with markup, a CDATA end, quotes and control characters XML 1.0 cannot hold.
  const body = `${HOSTILE.errorBody} ]]> "q" 'a' \u0001\u001b[31m`;
  errorsPhase.metrics.stopped = { ...errorsPhase.metrics.stopped!, reason: body };
  hostile.phases[0]!.models = [HOSTILE.model];
  const checks: RegressionCheck[] = [{ phase: 'ramp', metric: 'latency.e2e.p95', verdict: 'regressed', detail: HOSTILE.description }];
  const xml = renderJunitXml(hostile, checks);
  expect(xml).not.toContain('<script>');
  expect(xml).not.toContain('<b>');
  const result = consume(xml);
  const stoppedCase = caseNamed(casesOf(result, errorsPhase.name), PHASE_VERDICT_CASE)!;
  // The characters XML cannot hold are replaced; everything else reads back as written.
  expect(stoppedCase.failure).toContain(`stopped early: ${HOSTILE.errorBody} ]]> "q" 'a' \uFFFD\uFFFD[31m`);
  expect(caseNamed(casesOf(result, 'ramp'), 'regression latency.e2e.p95')!.failure).toBe(`regressed: ${HOSTILE.description}`);
  expect(result.suites[0]!.metadata).toMatchObject({ 'grym-perf.models': HOSTILE.model, 'grym-perf.run-id': HOSTILE.runId });
});
