/**
 * `--junit FILE`: the run's verdict as JUnit XML (the shape Jenkins, GitLab, Azure DevOps and the
 * GitHub test-report actions read). Built with xmlbuilder2, which escapes every attribute and text;
 * characters XML cannot hold at all (control characters in a server's error body) are replaced.
 */
import { writeFile } from 'node:fs/promises';
import { create } from 'xmlbuilder2';
import type { RunReport } from '../../shared/run-report';
import { junitSuites, type JunitCase, type JunitSuite } from './junit-cases';
import type { RegressionCheck } from './regression-check';

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

function countsOf(cases: readonly JunitCase[]): Counts {
  const count = (kind: JunitCase['outcome']['kind']) => cases.filter((testCase) => testCase.outcome.kind === kind).length;
  return { tests: cases.length, failures: count('failure'), errors: count('error'), skipped: count('skipped') };
}

/** Seconds as JUnit writes them: a decimal with millisecond precision. */
const seconds = (value: number) => (Math.max(0, value) || 0).toFixed(3);

/** The classic JUnit schema's timestamp: ISO 8601 without a zone (the run's times are UTC). */
const timestamp = (iso: string) => iso.slice(0, 19);

export function renderJunitXml(report: RunReport, regressions: readonly RegressionCheck[] = []): string {
  const suites: JunitSuite[] = junitSuites(report, regressions);
  const all = countsOf(suites.flatMap((suite) => suite.cases));
  const document = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '\uFFFD' });
  const root = document.ele('testsuites', {
    name: `grym-perf ${report.plan.name}`,
    ...all,
    time: seconds(report.durationMs / 1000),
    timestamp: timestamp(report.startedAt),
  });
  suites.forEach((suite, index) => {
    const element = root.ele('testsuite', {
      name: suite.name,
      id: index,
      ...countsOf(suite.cases),
      time: seconds(suite.seconds),
      timestamp: timestamp(report.startedAt),
      hostname: report.tool.host,
    });
    const properties = element.ele('properties');
    for (const [name, value] of Object.entries(suite.properties)) properties.ele('property', { name, value });
    for (const testCase of suite.cases) {
      const caseElement = element.ele('testcase', {
        name: testCase.name,
        classname: testCase.classname,
        time: seconds(testCase.seconds ?? 0),
      });
      const { outcome } = testCase;
      if (outcome.kind === 'failure' || outcome.kind === 'error') {
        caseElement.ele(outcome.kind, { message: outcome.message, type: outcome.type }).txt(outcome.body);
      } else if (outcome.kind === 'skipped') {
        caseElement.ele('skipped', { message: outcome.message });
      } else if (outcome.kind === 'passed' && outcome.output) {
        caseElement.ele('system-out').txt(outcome.output);
      }
    }
  });
  return document.end({ prettyPrint: true });
}

export async function writeJunitReport(file: string, report: RunReport, regressions: readonly RegressionCheck[] = []): Promise<void> {
  await writeFile(file, `${renderJunitXml(report, regressions)}\n`);
}
