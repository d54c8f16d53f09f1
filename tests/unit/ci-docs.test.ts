/**
 * The README's CI and alerts sections hold what the code does: the exit-code table is EXIT's, the
 * example plan is a valid plan, the example workflow is valid YAML running that plan, and the
 * example payload has the keys a real payload has.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { buildAlertPayload } from '../../src/coordinator/alerts/alert-payload';
import { EXIT, EXIT_MEANINGS, exitCodeMeanings } from '../../src/shared/errors';
import { parsePlan } from '../../src/shared/parse-plan';
import { singleWindowSampleReport } from '../helpers/sample-report';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const section = (heading: string) => {
  const start = readme.indexOf(`\n${heading}\n`);
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + heading.length + 2);
  return readme.slice(start, end < 0 ? undefined : end);
};
const ci = section('## CI: exit codes, JUnit, job summary');
const alerts = section('## Alerts');
/** The fenced blocks of a language in a section, in order. */
const blocks = (text: string, language: string) =>
  [...text.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

test('every outcome has a meaning, and the README table lists every exit code with it', () => {
  expect(Object.keys(EXIT_MEANINGS).sort()).toEqual(Object.keys(EXIT).sort());
  const rows = exitCodeMeanings();
  expect(rows.map((row) => row.code)).toEqual([0, 1, 2, 3, 4, 130]);
  for (const { code, meaning } of rows) expect(ci).toContain(`| \`${code}\` | ${meaning} |`);
});

test('the example plan is valid and the workflow runs it with --junit', () => {
  const [plan, workflow] = blocks(ci, 'yaml');
  const parsed = parsePlan(plan!, 'perf/pr-plan.yaml');
  expect(parsed.alerts?.webhooks[0]).toMatchObject({ urlEnv: 'SLACK_WEBHOOK_URL', format: 'slack' });
  const jobs = (parseYaml(workflow!) as { jobs: { perf: { steps: Array<{ run?: string; uses?: string; with?: { path?: string } }> } } })
    .jobs;
  const steps = jobs.perf.steps;
  expect(steps.find((step) => step.run?.includes('grym-perf run perf/pr-plan.yaml'))?.run).toContain('--junit');
  expect(steps.filter((step) => step.uses?.startsWith('actions/cache/')).map((step) => step.with?.path)).toEqual([
    '.grym-perf/history',
    '.grym-perf/history',
  ]);
  expect(steps.some((step) => step.run?.includes('grym-perf mock-llm'))).toBe(true);
  expect(steps.some((step) => step.run?.includes('grym-perf compare') && step.run.includes('gh pr comment'))).toBe(true);
});

test('the alerts example is a valid alerts block, and the payload example has the real keys', () => {
  const [block] = blocks(alerts, 'yaml');
  const plan = `name: p\ntarget: { mock: { models: [{ name: m }] } }\nphases: [{ name: p, scenario: requests, models: [m], load: { concurrency: 1, duration: 1s } }]\n${block}`;
  expect(parsePlan(plan, 'plan.yaml').alerts?.webhooks).toHaveLength(2);
  const [json] = blocks(alerts, 'json');
  const real = buildAlertPayload({ report: singleWindowSampleReport(), events: ['failure'], regressions: [], reports: {} });
  expect(Object.keys(JSON.parse(json!) as object)).toEqual(Object.keys(real));
});
