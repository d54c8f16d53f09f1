/**
 * CI and alert hooks of `run`, with the real CLI in child processes against the built-in mock and
 * a webhook receiver on loopback: --junit read back by a JUnit consumer, the verdict appended to
 * $GITHUB_STEP_SUMMARY, webhooks called with the expected payload and no secret in it (neither the
 * API key nor the webhook URL's token), retried after a 500, bounded when the receiver never
 * answers, and never changing the exit code, which stays the verdict's.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'test-results-parser';
import type { AlertPayload } from '../../src/coordinator/alerts/alert-payload';
import { deliveryBoundMs } from '../../src/coordinator/alerts/post-webhook';
import type { RunReport } from '../../src/shared/run-report';
import { runCli, spawnCli } from '../helpers/cli-process';

// Each case starts a CLI child (tsx) that runs a second or two of load against the mock.
jest.setTimeout(90_000);

const dir = mkdtempSync(join(tmpdir(), 'grym-ci-alerts-'));

interface Received {
  path: string;
  body: string;
  headers: IncomingHttpHeaders;
  atMs: number;
}

/**
 * A webhook receiver: `/ok/...` answers 200, `/flaky/...` answers 500 to its first call and 200
 * after, `/silent/...` reads the request and never answers.
 */
async function startReceiver(): Promise<{ server: Server; base: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const path = request.url ?? '';
      received.push({ path, body, headers: request.headers, atMs: Date.now() });
      const kind = path.split('/')[1];
      if (kind === 'silent') return;
      const calls = received.filter((r) => r.path === path).length;
      response.writeHead(kind === 'flaky' && calls === 1 ? 500 : 200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

function stopReceiver(server: Server): void {
  server.closeAllConnections();
  server.close();
}

/** A one-phase plan against the mock, with an API key variable and the given webhooks. */
function writePlan(name: string, options: { e2eLimit: string; duration: string; webhooks: string }): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `
name: ${name}
target:
  apiKeyEnv: ALERT_TEST_API_KEY
  mock: { models: [{ name: m, ttft: 20ms, tokensPerSecond: 500, loadTime: 0ms }] }
phases:
  - name: baseline
    scenario: requests
    models: [m]
    load: { concurrency: 2, duration: ${options.duration} }
    conversation: { turns: 4, promptTokens: 8, maxTokens: 8 }
    criteria:
      latency.e2e.p95: "${options.e2eLimit}"
      requests.errorRate: "< 1%"
alerts:
  webhooks:
${options.webhooks}
`,
  );
  return file;
}

const API_KEY = 'sk-alert-test-0123456789abcdef';
/** Every run: the API key the plans name, and a history of their own (never the repository's). */
const ENV = { ALERT_TEST_API_KEY: API_KEY, GRYM_HISTORY_DIR: join(dir, 'history'), GITHUB_STEP_SUMMARY: '' };
const readReport = (out: string) => JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;

test('a failed run: JUnit, job summary, a JSON and a Slack webhook (retried after a 500), no secret anywhere', async () => {
  const { server, base, received } = await startReceiver();
  const slackUrl = `${base}/flaky/T0SLACK/B0HOOK/slack-token-5f2a9c`;
  const jsonUrl = `${base}/ok/json-token-77e1d0`;
  const regressionUrl = `${base}/ok/regression-token-3b8c41`;
  const out = join(dir, 'failed');
  const junit = join(dir, 'failed-junit.xml');
  const summary = join(dir, 'step-summary.md');
  writeFileSync(summary, '## an earlier step\n');
  const plan = writePlan('alerts-fail', {
    e2eLimit: '< 1ms',
    duration: '1s',
    webhooks: [
      '    - { urlEnv: ALERT_TEST_SLACK, format: slack, timeout: 2s }',
      '    - { urlEnv: ALERT_TEST_JSON, on: [failure] }',
      '    - { urlEnv: ALERT_TEST_REGRESSION_ONLY, on: [regression] }',
    ].join('\n'),
  });
  let run: { code: number | string; output: string };
  try {
    run = await runCli(['run', plan, '--out', out, '--junit', junit, '--threads', '1'], {
      env: {
        ...ENV,
        ALERT_TEST_SLACK: slackUrl,
        ALERT_TEST_JSON: jsonUrl,
        ALERT_TEST_REGRESSION_ONLY: regressionUrl,
        GITHUB_STEP_SUMMARY: summary,
      },
    });
  } finally {
    stopReceiver(server);
  }
  const { code, output } = run;
  expect(code).toBe(1);
  const report = readReport(out);
  const failed = report.phases[0]!.criteria.find((criterion) => criterion.metric === 'latency.e2e.p95')!;
  expect(failed.passed).toBe(false);

  // The Slack webhook: a 500, then the same message again, delivered.
  const slackCalls = received.filter((r) => r.path.startsWith('/flaky/'));
  expect(slackCalls).toHaveLength(2);
  expect(slackCalls[1]!.body).toBe(slackCalls[0]!.body);
  const slack = JSON.parse(slackCalls[1]!.body) as { text: string };
  expect(Object.keys(slack)).toEqual(['text']);
  expect(slack.text).toContain(`*grym-perf: alerts-fail: FAIL (run ${report.runId}`);
  expect(slack.text).toContain(`• baseline: latency.e2e.p95: ${failed.verdict.replace('<', '&lt;')}`);
  expect(output).toContain('alert: webhook $ALERT_TEST_SLACK (slack, on failure) delivered');

  // The JSON webhook: the generic payload, as the report says.
  const jsonCalls = received.filter((r) => r.path.startsWith('/ok/json'));
  expect(jsonCalls).toHaveLength(1);
  expect(jsonCalls[0]!.headers['content-type']).toBe('application/json');
  const payload = JSON.parse(jsonCalls[0]!.body) as AlertPayload;
  expect(payload).toMatchObject({
    tool: 'grym-perf',
    events: ['failure'],
    verdict: 'failed',
    regressed: false,
    runId: report.runId,
    plan: { name: 'alerts-fail', source: report.plan.source },
    mode: 'local',
    failedPhases: [],
    regressions: [],
    reports: { json: join(out, 'report.json'), markdown: join(out, 'report.md'), html: join(out, 'report.html'), junit },
  });
  expect(payload.failedCriteria).toEqual([
    {
      phase: 'baseline',
      metric: 'latency.e2e.p95',
      condition: '< 1ms',
      value: failed.value,
      threshold: failed.threshold,
      margin: failed.margin,
      verdict: failed.verdict,
    },
  ]);
  expect(output).toContain('alert: webhook $ALERT_TEST_JSON (json, on failure) delivered');
  // A webhook only for regressions is not called on a failure.
  expect(received.filter((r) => r.path.includes('regression'))).toHaveLength(0);

  // No secret in what left or was written: neither the key nor any webhook URL or its token.
  const secrets = [API_KEY, slackUrl, jsonUrl, regressionUrl, 'slack-token-5f2a9c', 'json-token-77e1d0', 'regression-token-3b8c41'];
  const written = [output, ...received.map((r) => r.body), readFileSync(join(out, 'report.json'), 'utf8'), readFileSync(junit, 'utf8')];
  for (const secret of secrets) for (const text of written) expect(text).not.toContain(secret);

  // The job summary: what was there, then the verdict part of report.md, without the metrics.
  const markdown = readFileSync(summary, 'utf8');
  expect(markdown.startsWith('## an earlier step\n# grym-perf: alerts-fail: FAIL ❌\n')).toBe(true);
  expect(markdown).toMatch(/\| `latency.e2e.p95` \| [\d.]+ ms \| < 1\.0 ms \| ❌ fail: over by [\d.]+ ms \|/);
  expect(markdown).not.toContain('**Requests**');

  // The JUnit file, read by a JUnit consumer.
  const result = parse({ type: 'junit', files: [junit] });
  expect(result).toMatchObject({ total: 3, failed: 1, errors: 0, skipped: 0 });
  const failedCase = result.suites[0]!.cases.find((c) => c.status === 'FAIL')!;
  expect(failedCase).toMatchObject({ name: 'latency.e2e.p95 < 1ms', failure: failed.verdict });
  expect(output).toContain(`junit: ${junit}`);
});

test('a webhook that never answers is given up after its attempts, and the exit code stays the verdict', async () => {
  const { server, base, received } = await startReceiver();
  const out = join(dir, 'silent');
  const plan = writePlan('alerts-silent', {
    e2eLimit: '< 1ms',
    duration: '1s',
    webhooks: ['    - { urlEnv: ALERT_TEST_SILENT, timeout: 1s, attempts: 2 }', '    - { urlEnv: ALERT_TEST_NOT_SET }'].join('\n'),
  });
  let run: { code: number | string; output: string; exitedAtMs: number };
  try {
    const cli = spawnCli(['run', plan, '--out', out, '--threads', '1'], {
      env: { ...ENV, ALERT_TEST_SILENT: `${base}/silent/token-silent-91` },
    });
    const code = await cli.exited;
    run = { code, output: cli.output(), exitedAtMs: Date.now() };
  } finally {
    stopReceiver(server);
  }
  expect(run.code).toBe(1);
  // Both attempts reached the receiver, and the run ended within the bound of the attempts.
  expect(received.map((r) => r.path)).toEqual(['/silent/token-silent-91', '/silent/token-silent-91']);
  expect(received[1]!.atMs - received[0]!.atMs).toBeGreaterThanOrEqual(1000);
  expect(run.exitedAtMs - received[0]!.atMs).toBeLessThan(deliveryBoundMs(1000, 2) + 5000);
  expect(run.output).toContain(
    "alert: webhook $ALERT_TEST_SILENT (json, on failure) NOT delivered (up to 2 attempts): UND_ERR_HEADERS_TIMEOUT; the run's verdict and exit code stand",
  );
  // A webhook whose variable is not set: said before the run, and again at its end.
  expect(run.output).toContain('warning: alerts: ALERT_TEST_NOT_SET is not set here: its webhook will not be called');
  expect(run.output).toMatch(
    /alert: webhook \$ALERT_TEST_NOT_SET \(json, on failure\) NOT delivered.*: ALERT_TEST_NOT_SET is not set here/,
  );
  expect(run.output).not.toContain('token-silent-91');
  expect(readReport(out).passed).toBe(false);
});

test('a run that passes calls no webhook and exits 0', async () => {
  const { server, base, received } = await startReceiver();
  const plan = writePlan('alerts-pass', { e2eLimit: '< 10s', duration: '1s', webhooks: '    - { urlEnv: ALERT_TEST_JSON }' });
  let code: number | string;
  try {
    ({ code } = await runCli(['run', plan, '--out', join(dir, 'pass'), '--threads', '1'], {
      env: { ...ENV, ALERT_TEST_JSON: `${base}/ok/pass`, GITHUB_STEP_SUMMARY: '' },
    }));
  } finally {
    stopReceiver(server);
  }
  expect(code).toBe(0);
  expect(received).toHaveLength(0);
});

test('Ctrl-C: the abort webhook is called with the interrupted verdict, and the exit code is 130', async () => {
  const { server, base, received } = await startReceiver();
  const out = join(dir, 'aborted');
  const plan = writePlan('alerts-abort', {
    e2eLimit: '< 10s',
    duration: '60s',
    webhooks: ['    - { urlEnv: ALERT_TEST_ABORT, on: [abort] }', '    - { urlEnv: ALERT_TEST_FAILURE_ONLY, on: [failure] }'].join('\n'),
  });
  const cli = spawnCli(['run', plan, '--out', out, '--threads', '1'], {
    env: { ...ENV, ALERT_TEST_ABORT: `${base}/ok/abort`, ALERT_TEST_FAILURE_ONLY: `${base}/ok/failure-only` },
  });
  try {
    await cli.waitFor(/ {2}baseline: \d+% .*\| [1-9]\d* ok/, 30_000);
    cli.kill('SIGINT');
    expect(await cli.exited).toBe(130);
  } finally {
    cli.kill('SIGKILL');
    stopReceiver(server);
  }
  expect(received.map((r) => r.path)).toEqual(['/ok/abort']);
  const payload = JSON.parse(received[0]!.body) as AlertPayload;
  expect(payload).toMatchObject({ events: ['abort'], verdict: 'interrupted', runId: readReport(out).runId });
  expect(payload.failedPhases).toEqual([{ phase: 'baseline', reasons: ['stopped early: interrupted'] }]);
});

test('run --baseline: a regression is a JUnit failure, joins the job summary and calls the regression webhook', async () => {
  const { server, base, received } = await startReceiver();
  const history = join(dir, 'regression-history');
  const planWithTtft = (ttft: string) => {
    const file = join(dir, `regression-${ttft}.yaml`);
    writeFileSync(
      file,
      `
name: alerts-regression
target: { mock: { models: [{ name: m, ttft: ${ttft}, tokensPerSecond: 500, loadTime: 0ms }] } }
phases:
  - name: chat
    scenario: requests
    models: [m]
    load: { concurrency: 2, duration: 2s }
    conversation: { turns: 4, promptTokens: 8, maxTokens: 8 }
    criteria: { latency.e2e.p95: "< 10s" }
alerts:
  webhooks:
    - { urlEnv: ALERT_TEST_REGRESSION, on: [regression] }
    - { urlEnv: ALERT_TEST_FAILURE_ONLY, on: [failure] }
`,
    );
    return file;
  };
  const junit = join(dir, 'regression-junit.xml');
  const summary = join(dir, 'regression-summary.md');
  writeFileSync(summary, '');
  const env = {
    ...ENV,
    GRYM_HISTORY_DIR: history,
    ALERT_TEST_REGRESSION: `${base}/ok/regression`,
    ALERT_TEST_FAILURE_ONLY: `${base}/ok/failure-only`,
  };
  let second: { code: number | string; output: string };
  try {
    const first = await runCli(['run', planWithTtft('20ms'), '--out', join(dir, 'regression-base'), '--threads', '1'], { env });
    expect(first.code).toBe(0);
    // The mock's TTFT five times longer: every criterion still passes, the comparison does not.
    second = await runCli(
      ['run', planWithTtft('100ms'), '--out', join(dir, 'regression-new'), '--threads', '1', '--baseline', 'latest', '--junit', junit],
      { env: { ...env, GITHUB_STEP_SUMMARY: summary } },
    );
  } finally {
    stopReceiver(server);
  }
  expect(second.code).toBe(1);
  const report = readReport(join(dir, 'regression-new'));
  expect(report.passed).toBe(true);

  const cases = parse({ type: 'junit', files: [junit] }).suites[0]!.cases;
  const ttft = cases.find((c) => c.name === 'regression latency.ttft.p50')!;
  expect(ttft.status).toBe('FAIL');
  expect(ttft.failure).toMatch(/^regressed: [\d.]+ ms -> [\d.]+ ms \(\+[\d.]+ %\): /);
  expect(cases.find((c) => c.name === 'latency.e2e.p95 < 10s')!.status).toBe('PASS');

  expect(received.map((r) => r.path)).toEqual(['/ok/regression']);
  const payload = JSON.parse(received[0]!.body) as AlertPayload;
  expect(payload).toMatchObject({ events: ['regression'], verdict: 'passed', regressed: true, runId: report.runId });
  expect(payload.regressions.map((r) => r.metric)).toContain('latency.ttft.p50');

  const markdown = readFileSync(summary, 'utf8');
  expect(markdown.startsWith('# grym-perf: alerts-regression: PASS ✅\n')).toBe(true);
  expect(markdown).toContain('## grym-perf comparison: REGRESSED');
});

test('--help lists the exit code of every outcome', async () => {
  for (const args of [['--help'], ['run', '--help']]) {
    const { code, output } = await runCli(args);
    expect(code).toBe(0);
    expect(output).toContain('Exit codes:');
    expect(output).toMatch(/^ {2}0 {4}every criterion passed/m);
    expect(output).toMatch(/^ {2}1 {4}a criterion failed.*; or a metric regressed against the baseline/m);
    expect(output).toMatch(/^ {2}130 {2}interrupted/m);
  }
});

test('--junit with --detach is a usage error: nothing would be written', async () => {
  const { code, output } = await runCli([
    'run',
    writePlan('alerts-detach', { e2eLimit: '< 1s', duration: '1s', webhooks: '    - { urlEnv: X_HOOK }' }),
    '--redis',
    'redis://127.0.0.1:1',
    '--detach',
    '--junit',
    join(dir, 'never.xml'),
  ]);
  expect(code).toBe(2);
  expect(output).toContain('--junit has nowhere to go');
});
