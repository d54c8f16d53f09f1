/**
 * The dashboard over a real finished run: a redis-server of the test's own, a real worker and
 * aggregator, real HTTP, and a real headless Chromium for what a person sees (the run's page is its
 * report.html; runs in progress are in dashboard-live.test.ts).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { chromium } from 'playwright-core';
import { startControlWorker, submitRun, watchRun } from '../../src/coordinator/distributed';
import { resolveTarget } from '../../src/coordinator/resolve-target';
import { startDashboard, type Dashboard } from '../../src/dashboard';
import { mockOf } from '../../src/shared/target-schema';
import { startMockLlm, type MockLlmServer } from '../../src/mock-llm';
import { readPlanInput, validatePlan } from '../../src/shared/parse-plan';
import type { RunReport } from '../../src/shared/run-report';
import { startShardWorker, type ShardWorker } from '../../src/worker/queue/shard-worker';
import { REPO_ROOT } from '../helpers/cli-process';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

// Starts Redis, a worker, a run, the dashboard and Chromium.
jest.setTimeout(90_000);

const credentials = { user: 'grym', password: 'correct horse battery staple' };
const prefix = 'dash';
const CHROMIUM = '/usr/bin/chromium';
let redis: TestRedis;
let mock: MockLlmServer;
let worker: ShardWorker;
let control: { close(): Promise<void> };
let dashboard: Dashboard;
let report: RunReport;

const auth = (user = credentials.user, password = credentials.password) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const get = async (path: string, headers: Record<string, string> = {}) => {
  const response = await request(`${dashboard.url}${path}`, { headers });
  return { status: response.statusCode, text: await response.body.text() };
};

beforeAll(async () => {
  redis = await startTestRedis();
  const input = readPlanInput(
    `name: dash-run
target:
  mock: { models: [{ name: m, ttft: 5ms, tokensPerSecond: 1000, loadTime: 10ms }] }
phases:
  - { name: baseline, scenario: requests, models: [m], load: { concurrency: 2, requests: 12 }, criteria: { latency.e2e.p95: "< 1s", requests.errorRate: "< 1%" } }
`,
  );
  const plan = validatePlan(input);
  mock = await startMockLlm(mockOf(plan.target)!);
  worker = await startShardWorker({ redisUrl: redis.url, prefix, threads: 1, name: 'dash-worker' });
  control = await startControlWorker({ redisUrl: redis.url, prefix, name: 'dash-control' });
  const { runId } = await submitRun({
    redisUrl: redis.url,
    prefix,
    loaded: { plan, input, source: 'dash.yaml' },
    target: resolveTarget(plan.target, mock.url),
  });
  report = await watchRun({ redisUrl: redis.url, prefix, runId, pollMs: 100 });
  dashboard = await startDashboard({ redisUrl: redis.url, prefix, port: 0, credentials });
});

afterAll(async () => {
  await dashboard?.close();
  await worker?.close();
  await control?.close();
  await mock?.close();
  await redis?.destroy();
});

test('every page answers 401 without credentials or with wrong ones', async () => {
  for (const path of ['/', '/runs', `/runs/${report.runId}`, `/runs/${report.runId}/report.json`, '/board', '/board/api/queues']) {
    expect((await get(path)).status).toBe(401);
    expect((await get(path, auth('grym', 'wrong'))).status).toBe(401);
  }
});

test('refuses to listen beyond loopback without credentials', async () => {
  await expect(startDashboard({ redisUrl: redis.url, prefix, host: '0.0.0.0', port: 0 })).rejects.toMatchObject({ code: 'GRYM_ERR_USAGE' });
});

test('with credentials: the board lists the three queues, read-only, and the run report is served', async () => {
  const queues = JSON.parse((await get('/board/api/queues', auth())).text) as { queues: Array<{ name: string; readOnlyMode: boolean }> };
  expect(queues.queues.map((queue) => queue.name).sort()).toEqual(['phases', 'runs', 'shards']);
  expect(queues.queues.every((queue) => queue.readOnlyMode)).toBe(true);
  const json = await get(`/runs/${report.runId}/report.json`, auth());
  expect(JSON.parse(json.text)).toEqual(report);
  const markdown = await get(`/runs/${report.runId}/report.md`, auth());
  expect(markdown.text).toContain('# grym-perf: dash-run: PASS');
  expect((await get('/runs/no-such-run', auth())).status).toBe(404);
  // Every run has ended: neither the list nor the run page reloads itself.
  expect((await get('/runs', auth())).text).not.toContain('http-equiv="refresh"');
  expect((await get(`/runs/${report.runId}`, auth())).text).not.toContain('http-equiv="refresh"');
});

const browserTest = existsSync(CHROMIUM) ? test : test.skip;
if (!existsSync(CHROMIUM)) console.warn(`dashboard browser test skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

browserTest('in a real browser: the board shows the queues and the run page is the report, its charts drawn', async () => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const artefacts = join(REPO_ROOT, 'test-results');
  mkdirSync(artefacts, { recursive: true });
  try {
    const context = await browser.newContext({ httpCredentials: { username: credentials.user, password: credentials.password } });
    const page = await context.newPage();
    // The Content-Security-Policy must block nothing the pages need; bull-board's web fonts are
    // refused on purpose (the UI falls back to system fonts, as it does offline).
    const violations: string[] = [];
    page.on('console', (message) => {
      const text = message.text();
      if (/Content Security Policy|Refused to/.test(text) && !text.includes('fonts.googleapis.com')) violations.push(text);
    });
    page.on('pageerror', (error) => violations.push(error.message));
    // The run's job, completed, in the board's runs queue; its log holds the Markdown summary.
    await page.goto(`${dashboard.url}/board/queue/runs?status=completed`);
    await page.getByText(report.runId).first().waitFor({ timeout: 20_000 });
    await page.getByText('Logs', { exact: true }).first().click();
    await page.getByText('grym-perf: dash-run: PASS', { exact: false }).first().waitFor({ timeout: 10_000 });
    expect(await page.getByText('phases', { exact: true }).count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(artefacts, 'dashboard-board.png'), fullPage: true });

    await page.goto(`${dashboard.url}/runs`);
    await page.getByRole('link', { name: report.runId }).click();
    // The run's page is its report.html, charts and all, under the dashboard's policy.
    await page.getByRole('heading', { name: /PASS dash-run/ }).waitFor();
    const row = page.getByRole('row', { name: /latency\.e2e\.p95/ }).first();
    expect(await row.textContent()).toContain('pass');
    await page.locator('body[data-charts]').waitFor();
    expect(await page.locator('.chart[data-drawn="true"]').count()).toBe(await page.locator('.chart').count());
    await page.screenshot({ path: join(artefacts, 'dashboard-run.png'), fullPage: true });
    // The dashboard's bar above the report leads back to the list.
    await page.getByRole('link', { name: 'All runs' }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    expect(violations).toEqual([]);

    // Without credentials the browser gets the 401 challenge and, headless, gives up on the page.
    const anonymous = await (await browser.newContext()).newPage();
    await expect(anonymous.goto(`${dashboard.url}/runs`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
  } finally {
    await browser.close();
  }
});
