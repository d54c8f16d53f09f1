/**
 * The alert webhooks on their own, against a real HTTP receiver on loopback: which events call
 * which webhook (a regression against a baseline included), the Slack text, the guard that keeps
 * secrets out of a payload even when a report carries one, and a webhook URL that is not http(s).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertPayload } from '../../src/coordinator/alerts/alert-payload';
import { alertEvents, sendAlerts } from '../../src/coordinator/alerts/send-alerts';
import type { RegressionCheck } from '../../src/coordinator/ci/regression-check';
import type { Alerts } from '../../src/shared/alerts-schema';
import type { RunReport } from '../../src/shared/run-report';
import { singleWindowSampleReport } from '../helpers/sample-report';

let server: Server;
let base: string;
const received: Array<{ path: string; body: string }> = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body });
      response.writeHead(request.url?.startsWith('/gone') ? 404 : 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());
beforeEach(() => (received.length = 0));

const webhook = (urlEnv: string, extra: Partial<Alerts['webhooks'][number]> = {}): Alerts['webhooks'][number] => ({
  urlEnv,
  on: ['failure', 'regression', 'abort'],
  format: 'json',
  timeout: 2000,
  attempts: 1,
  ...extra,
});
const REPORTS = { json: 'out/report.json', markdown: 'out/report.md', html: 'out/report.html' };
const REGRESSED: RegressionCheck = {
  phase: 'smoke',
  metric: 'latency.e2e.p95',
  verdict: 'regressed',
  detail: '812 ms -> 1.02 s (+25.6 %): 95 % interval +18 % .. +31 %, beyond +10 % <&>',
};

function passingReport(): RunReport {
  const report = singleWindowSampleReport();
  expect(report.passed).toBe(true);
  return report;
}

test('events: failure, abort and regression, and none for a run that passed without regressing', () => {
  const passed = passingReport();
  expect(alertEvents(passed, [])).toEqual([]);
  expect(alertEvents(passed, [{ ...REGRESSED, verdict: 'inconclusive' }])).toEqual([]);
  expect(alertEvents(passed, [REGRESSED])).toEqual(['regression']);
  expect(alertEvents({ ...passed, passed: false }, [])).toEqual(['failure']);
  expect(alertEvents({ ...passed, passed: false, aborted: true }, [REGRESSED])).toEqual(['abort', 'regression']);
});

test('a regression calls the webhooks that listen for it, with the regressions listed', async () => {
  const env = { HOOK_REGRESSION: `${base}/regression`, HOOK_FAILURE: `${base}/failure`, HOOK_SLACK: `${base}/slack` };
  const alerts: Alerts = {
    webhooks: [
      webhook('HOOK_REGRESSION', { on: ['regression'] }),
      webhook('HOOK_FAILURE', { on: ['failure'] }),
      webhook('HOOK_SLACK', { format: 'slack' }),
    ],
  };
  const results = await sendAlerts({ report: passingReport(), alerts, regressions: [REGRESSED], reports: REPORTS, env });
  expect(results.map((result) => result.delivered)).toEqual([true, true]);
  expect(received.map((r) => r.path).sort()).toEqual(['/regression', '/slack']);
  const payload = JSON.parse(received.find((r) => r.path === '/regression')!.body) as AlertPayload;
  expect(payload).toMatchObject({
    events: ['regression'],
    verdict: 'passed',
    regressed: true,
    failedCriteria: [],
    regressions: [{ phase: 'smoke', metric: 'latency.e2e.p95', detail: REGRESSED.detail }],
    reports: REPORTS,
  });
  const slack = JSON.parse(received.find((r) => r.path === '/slack')!.body) as { text: string };
  expect(slack.text.split('\n')).toEqual([
    expect.stringMatching(/^\*grym-perf: smoke: PASS, REGRESSED \(run smoke-20261120-090000, local, on .*\)\*$/),
    '• smoke: latency.e2e.p95 regressed: 812 ms -&gt; 1.02 s (+25.6 %): 95 % interval +18 % .. +31 %, beyond +10 % &lt;&amp;&gt;',
    '• reports: out/report.json out/report.md out/report.html',
  ]);
});

test('a secret that reached the report never leaves in a payload; the URL is never printed', async () => {
  const key = 'sk-live-0123456789';
  const report = passingReport();
  report.passed = false;
  report.phases[0]!.passed = false;
  (report.resolvedPlan as { target: { apiKeyEnv?: string } }).target.apiKeyEnv = 'SEND_ALERTS_KEY';
  const url = `${base}/hook/token-abc-123`;
  report.phases[0]!.error = { code: 'GRYM_ERR_SHARD_FAILED', message: `worker said: Bearer ${key} refused at ${url}` };
  const logged: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void logged.push(line));
  try {
    await sendAlerts({ report, alerts: { webhooks: [webhook('HOOK')] }, reports: REPORTS, env: { HOOK: url, SEND_ALERTS_KEY: key } });
  } finally {
    log.mockRestore();
  }
  expect(received).toHaveLength(1);
  const { body } = received[0]!;
  expect(body).not.toContain(key);
  expect(body).not.toContain('token-abc-123');
  expect((JSON.parse(body) as AlertPayload).failedPhases).toEqual([
    { phase: 'smoke', reasons: ['did not complete: worker said: Bearer *** refused at ***'] },
  ]);
  expect(logged).toEqual(['alert: webhook $HOOK (json, on failure) delivered']);
});

test('a webhook that is not http(s) or answers 404 is reported by its variable, never its value', async () => {
  const report = { ...passingReport(), passed: false };
  const errors: string[] = [];
  const error = jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
  let results;
  try {
    results = await sendAlerts({
      report,
      alerts: { webhooks: [webhook('HOOK_FILE'), webhook('HOOK_GONE', { attempts: 3 })] },
      reports: REPORTS,
      env: { HOOK_FILE: 'file:///etc/secret-token', HOOK_GONE: `${base}/gone/secret-token` },
    });
  } finally {
    error.mockRestore();
  }
  expect(results.map((result) => result.problem)).toEqual(['HOOK_FILE does not hold an http:// or https:// URL', 'HTTP 404']);
  // A 404 is not tried again: the URL is wrong, not the moment.
  expect(received.map((r) => r.path)).toEqual(['/gone/secret-token']);
  expect(errors.join('\n')).not.toContain('secret-token');
  expect(errors[1]).toBe(
    "alert: webhook $HOOK_GONE (json, on failure) NOT delivered (up to 3 attempts): HTTP 404; the run's verdict and exit code stand",
  );
});
