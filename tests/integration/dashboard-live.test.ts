/**
 * The dashboard's run pages over real runs: a redis-server of the test's own, the real mock LLM, a
 * real shard worker and control worker, real HTTP and a real headless Chromium. A run of two phases
 * (the second sharded in two, 9 s of load) is opened mid-run: its criteria so far are those a
 * follower from the start judges, and its page follows it without reloading (progress per phase and
 * shard, criteria so far, the latest window, charts that fill), then settles on the final report.html, drawn under the dashboard's Content-Security-Policy. The runs list's
 * filters are checked over this run and a failing one of another plan.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { request } from 'undici';
import { addLiveCriteria, startControlWorker, submitRun, watchRun } from '../../src/coordinator/distributed';
import type { RunProgress } from '../../src/coordinator/distributed/watch-run';
import { judgeLive, type LiveCriteria } from '../../src/coordinator/metrics/live-criteria';
import { resolveTarget } from '../../src/coordinator/resolve-target';
import { startDashboard, type Dashboard } from '../../src/dashboard';
import { LIVE_CHART_COLORS } from '../../src/dashboard/live-page';
import { livePoints } from '../../src/dashboard/live-points';
import type { LiveRun } from '../../src/dashboard/live-run';
import { startMockLlm, type MockLlmServer } from '../../src/mock-llm';
import { readPlanInput, validatePlan, type LoadedPlan } from '../../src/shared/parse-plan';
import type { RunReport } from '../../src/shared/run-report';
import { mockOf } from '../../src/shared/target-schema';
import { createHistogram, encodeHistogram } from '../../src/shared/histogram';
import { emptyWindow, type RecentWindows, type WindowRecord } from '../../src/shared/window-series';
import { startShardWorker, type ShardWorker } from '../../src/worker/queue/shard-worker';
import { REPO_ROOT } from '../helpers/cli-process';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

// Redis, workers, two runs (one of ~11 s), a dashboard and Chromium.
jest.setTimeout(90_000);

const CHROMIUM = '/usr/bin/chromium';
const ARTEFACTS = join(REPO_ROOT, 'test-results');
const prefix = 'live';
const credentials = { user: 'grym', password: 'live pages' };
const MOCK = `target:
  mock: { models: [{ name: m, ttft: 15ms, tokensPerSecond: 400, loadTime: 1ms }] }
`;
const LIVE_PLAN = `name: live-run
${MOCK}phases:
  - { name: warm, scenario: requests, models: [m], load: { concurrency: 1, requests: 6 }, conversation: { maxTokens: 8 } }
  - name: steady
    scenario: requests
    models: [m]
    shards: 2
    # Long enough for every test of the running run, the browser's too, on a loaded machine (9 s
    # ran out before the browser's second look once the criteria test read live.json first).
    load: { concurrency: 4, duration: 18s }
    conversation: { maxTokens: 16 }
    criteria: { latency.e2e.p95: "< 5s", requests.total: ">= 1", requests.errorRate: "< 5%", memory.harness.peak: "< 8GB" }
`;
// Its criterion cannot hold: a finished run that fails.
const FAILING_PLAN = `name: other-plan
${MOCK}phases:
  - name: quick
    scenario: requests
    models: [m]
    load: { concurrency: 1, requests: 4 }
    conversation: { maxTokens: 4 }
    criteria: { latency.e2e.p95: "< 1ms" }
`;

let redis: TestRedis;
let mock: MockLlmServer;
let worker: ShardWorker;
let control: { close(): Promise<void> };
/** Loopback, no credentials: the Host check applies. */
let open: Dashboard;
let secured: Dashboard;
let browser: Browser | undefined;
let failingRunId: string;
let liveRunId: string;
/** A follower of the live run from its submission, as `grym-perf run` follows it: its report, its last poll, and its judgments of the sharded phase. */
let following: Promise<RunReport>;
let lastPoll: RunProgress | undefined;
const followed = new Map<string, LiveCriteria>();
/** A judgment's key: the span it covers and the requests it counted (two readers of the same totals have the same). */
const keyOf = (criteria: LiveCriteria) =>
  `${criteria.measuredMs} ${criteria.criteria.find((item) => item.metric === 'requests.total')?.verdict}`;

function loaded(text: string): LoadedPlan {
  const input = readPlanInput(text);
  return { plan: validatePlan(input), input, source: 'live.yaml' };
}

async function get(dashboard: Dashboard, path: string, headers: Record<string, string> = {}) {
  const response = await request(`${dashboard.url}${path}`, { headers });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

async function live(runId: string): Promise<LiveRun> {
  const answer = await get(open, `/runs/${runId}/live.json`);
  expect(answer.status).toBe(200);
  return JSON.parse(answer.text) as LiveRun;
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  redis = await startTestRedis();
  const failing = loaded(FAILING_PLAN);
  mock = await startMockLlm(mockOf(failing.plan.target)!);
  const target = resolveTarget(failing.plan.target, mock.url);
  // Two shards at once: the sharded phase's shards meet at a start barrier.
  worker = await startShardWorker({ redisUrl: redis.url, prefix, threads: 2, concurrency: 2, name: 'live-worker' });
  control = await startControlWorker({ redisUrl: redis.url, prefix, name: 'live-control' });
  open = await startDashboard({ redisUrl: redis.url, prefix, port: 0 });
  secured = await startDashboard({ redisUrl: redis.url, prefix, port: 0, credentials });
  ({ runId: failingRunId } = await submitRun({ redisUrl: redis.url, prefix, loaded: failing, target }));
  await watchRun({ redisUrl: redis.url, prefix, runId: failingRunId, pollMs: 100 });
  if (existsSync(CHROMIUM)) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
  }
  const livePlan = loaded(LIVE_PLAN);
  ({ runId: liveRunId } = await submitRun({ redisUrl: redis.url, prefix, loaded: livePlan, target }));
  following = watchRun({
    redisUrl: redis.url,
    prefix,
    runId: liveRunId,
    pollMs: 100,
    onProgress: (polled) => {
      lastPoll = polled;
      const criteria = addLiveCriteria(livePlan.plan.phases, polled).phases[1]?.criteria;
      if (criteria && criteria.measuredMs > 0) followed.set(keyOf(criteria), criteria);
    },
  });
});

afterAll(async () => {
  await following?.catch(() => undefined);
  await browser?.close();
  await open?.close();
  await secured?.close();
  await worker?.close(true);
  await control?.close();
  await mock?.close();
  await redis?.destroy();
});

interface Watched {
  page: Page;
  /** Console errors, uncaught exceptions, CSP violations (console lines and securitypolicyviolation events). */
  problems: string[];
  /** Main-frame navigations: the first load and every reload after it. */
  navigations: string[];
}

/** Browser contexts of the running test, closed after it whether it passed or not (a live page keeps polling). */
const contexts: BrowserContext[] = [];
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

async function watch(url: string): Promise<Watched> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  const watched: Watched = { page, problems: [], navigations: [] };
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy|Refused to/.test(message.text())) watched.problems.push(message.text());
  });
  page.on('pageerror', (error) => watched.problems.push(error.message));
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) watched.navigations.push(frame.url());
  });
  // A binding survives navigations, so violations after the settling reload are counted too.
  await page.exposeBinding('reportViolation', (_source, text: string) => watched.problems.push(`CSP violation: ${text}`));
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (event) => " +
      "window.reportViolation(event.violatedDirective + ' ' + event.blockedURI))",
  );
  await page.goto(url);
  return watched;
}

/** Per colour, the canvas pixels of chart container `id` near it (the series' lines and dots; grid and axes are grey). */
const pixelsOf = (page: Page, id: string, colors: string[]) =>
  page.evaluate(`(() => {
    const canvas = document.getElementById(${JSON.stringify(id)})?.querySelector('canvas');
    const data = canvas ? canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data : [];
    return ${JSON.stringify(colors)}.map((hex) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      let count = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) <= 40) count++;
      }
      return count;
    });
  })()`) as Promise<number[]>;

/** What the predicates below read of the page (the project compiles without the DOM library). */
interface PageGlobals {
  document: {
    body: { dataset: Record<string, string | undefined> };
    querySelectorAll(selector: string): ArrayLike<{ dataset: Record<string, string | undefined> }>;
  };
}
// waitForFunction predicates are functions, not strings: a string is eval'd in the page, which its policy forbids.
/** Every chart of report.html drawn (or given up on), as html-report-chromium.test.ts waits for them. */
const chartsDrawn = () => {
  const { document } = globalThis as unknown as PageGlobals;
  const charts = Array.from(document.querySelectorAll('.chart'));
  return document.body.dataset.charts !== undefined && charts.every((chart) => chart.dataset.drawn || chart.dataset.failed);
};
/** The page's body records at least `min` of `name` (polls made, windows drawn). */
const atLeast = ([name, min]: readonly [string, number]) =>
  Number((globalThis as unknown as PageGlobals).document.body.dataset[name] ?? 0) >= min;
const CHARTS_STATE = "[...document.querySelectorAll('.chart')].map((chart) => chart.dataset.drawn === 'true')";
const LOADED_ONCE = 'window.loadedOnce';

/** A closed window of one shard: `ok` requests of `e2eMs` each. */
function windowOf(index: number, ok: number, e2eMs: number): WindowRecord {
  const histogram = createHistogram();
  for (let i = 0; i < ok; i++) histogram.recordValue(e2eMs * 1000);
  return { ...emptyWindow(index), ok, histograms: { e2eUs: encodeHistogram(histogram), ttftUs: '', itlUs: '' } };
}
const recent = (closedThrough: number, windows: WindowRecord[], windowMs = 1000): RecentWindows => ({
  windowMs,
  originEpochMs: 1,
  closedThrough,
  windows,
});

describe('the windows a live page draws (livePoints)', () => {
  test('shards merged window by window, only those every shard has closed, quiet ones as zeros', () => {
    const points = livePoints([
      { recent: recent(3, [windowOf(0, 2, 10), windowOf(1, 2, 10), windowOf(3, 1, 30)]) },
      // Closed one window more: its window 4 is not drawn until the other shard closes it too.
      { recent: recent(4, [windowOf(0, 2, 20), windowOf(4, 5, 20)]) },
    ]);
    expect(points.map((point) => [point.tMs, point.ok, point.requestsPerSecond, point.e2e?.p95 ?? null])).toEqual([
      [0, 4, 4, expect.closeTo(20, 1)],
      [1000, 2, 2, expect.closeTo(10, 1)],
      [2000, 0, 0, null],
      [3000, 1, 1, expect.closeTo(30, 1)],
    ]);
  });

  test("a window that may have scrolled out of a shard's report is never drawn as a stall", () => {
    // The second shard reports only its latest windows (5 to 7): before 5 its report is not complete.
    const points = livePoints([
      { recent: recent(7, [windowOf(2, 1, 10), windowOf(6, 1, 10)]) },
      { recent: recent(7, [windowOf(5, 1, 10), windowOf(7, 1, 10)]) },
    ]);
    expect(points.map((point) => [point.tMs / 1000, point.ok])).toEqual([
      [5, 1],
      [6, 1],
      [7, 1],
    ]);
  });

  test('shards that coarsened their windows differently merge on the longer windows', () => {
    const points = livePoints([
      { recent: recent(3, [windowOf(0, 1, 10), windowOf(1, 1, 10), windowOf(2, 1, 10), windowOf(3, 1, 10)], 1000) },
      { recent: recent(1, [windowOf(0, 3, 10), windowOf(1, 3, 10)], 2000) },
    ]);
    expect(points.map((point) => [point.tMs, point.windowMs, point.ok, point.requestsPerSecond])).toEqual([
      [0, 2000, 5, 2.5],
      [2000, 2000, 5, 2.5],
    ]);
  });

  test('nothing until every shard has reported windows', () => {
    expect(livePoints([{ recent: recent(3, [windowOf(0, 1, 10)]) }, {}])).toEqual([]);
    expect(livePoints([{ recent: recent(-1, []) }])).toEqual([]);
    expect(livePoints([])).toEqual([]);
  });
});

const browserTest = existsSync(CHROMIUM) ? test : test.skip;
if (!existsSync(CHROMIUM)) console.warn(`dashboard live browser test skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

describe('a run in progress', () => {
  test('live.json: where the run is, each phase and shard, and the windows of the running phase', async () => {
    const mid = await until(
      () => live(liveRunId),
      (value) => (value.phases[1]?.windows.length ?? 0) >= 2,
      40_000,
      'two closed windows of the sharded phase',
    );
    expect(mid).toMatchObject({ runId: liveRunId, plan: 'live-run', ended: false, passed: null, words: 'running phase 2 of 2 (steady)' });
    const [warm, steady] = mid.phases as [LiveRun['phases'][number], LiveRun['phases'][number]];
    // A done shard is at 100 % with its final counts (from its result, not its last progress report, sent at most once a second).
    expect(warm).toMatchObject({
      name: 'warm',
      state: 'done',
      current: false,
      fraction: 1,
      windows: [],
      ok: 6,
      errors: 0,
      countsFinal: true,
    });
    expect(warm.shards[0]).toMatchObject({ state: 'done', ok: 6, countsFinal: true, worker: 'live-worker' });
    expect(steady).toMatchObject({ name: 'steady', state: 'running', current: true });
    expect(steady.shards.map((shard) => [shard.shardIndex, shard.state, shard.attempts, shard.worker])).toEqual([
      [0, 'running', 1, 'live-worker'],
      [1, 'running', 1, 'live-worker'],
    ]);
    expect(steady.ok).toBe(steady.shards.reduce((sum, shard) => sum + shard.ok, 0));
    // Consecutive windows of the merged shards, with their rates and exact percentiles.
    const windows = steady.windows;
    windows.forEach((point, index) => index > 0 && expect(point.tMs - windows[index - 1]!.tMs).toBe(point.windowMs));
    const latest = windows.at(-1)!;
    expect(latest.ok).toBeGreaterThan(0);
    expect(latest.requestsPerSecond).toBeCloseTo(latest.ok / (latest.windowMs / 1000));
    expect(latest.e2e!.p50).toBeGreaterThan(0);
    expect(latest.e2e!.p95).toBeGreaterThanOrEqual(latest.e2e!.p50);
    expect(latest.ttft!.p50).toBeGreaterThan(0);
    // The list says where it is, and the "in progress" filter finds it.
    const running = await get(open, '/runs?verdict=running');
    expect(running.text).toContain(liveRunId);
    expect(running.text).toContain('running phase 2 of 2 (steady)');
    expect(running.text).not.toContain(failingRunId);
  });

  test("live.json's criteria so far, read first mid-phase, are those of a follower from the start, on all the phase's requests", async () => {
    // The dashboard keeps nothing between answers: each one reads the shards' totals afresh.
    let compared = 0;
    // Past 5 windows of 1 s (what a shard's report keeps) and a totals interval: the totals then
    // hold requests that no window in the reports does (earlier, the windows can be a report ahead).
    for (let tries = 0; tries < 50 && compared < 2; tries++) {
      const steady = (await live(liveRunId)).phases[1]!;
      const criteria = steady.criteria;
      if (steady.state !== 'running' || !criteria || criteria.measuredMs < 6500) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        continue;
      }
      expect(criteria.criteria.map((item) => item.state)).toEqual(['holding', 'holding', 'holding', 'at-end']);
      expect(criteria.words).toMatch(/^3 holding, 1 at the end$/);
      // The follower polls every 100 ms: it has seen the same totals unless they changed within one poll.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const same = followed.get(keyOf(criteria));
      if (!same) continue;
      expect({ measuredMs: criteria.measuredMs, criteria: criteria.criteria }).toEqual(same);
      // Every request since the measured start: more than the latest windows the shards' reports carry.
      const counted = Number(/^(\d+) >= 1$/.exec(criteria.criteria[1]!.verdict!)?.[1]);
      const inWindows = steady.windows.reduce((sum, point) => sum + point.ok + point.errors, 0);
      expect(counted).toBeGreaterThan(inWindows);
      compared++;
    }
    expect(compared).toBe(2);
  });

  test('live.json keeps the dashboard rules: Host check without credentials, basic auth with them, never cached', async () => {
    expect((await get(open, `/runs/${liveRunId}/live.json`, { host: 'evil.example' })).status).toBe(403);
    expect((await get(secured, `/runs/${liveRunId}/live.json`)).status).toBe(401);
    const authorized = await get(secured, `/runs/${liveRunId}/live.json`, {
      authorization: `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`,
    });
    expect(authorized.status).toBe(200);
    expect(authorized.headers['cache-control']).toBe('no-store');
    expect(authorized.headers['content-type']).toMatch(/^application\/json/);
    const missing = await get(open, '/runs/no-such-run/live.json');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toEqual({ error: expect.stringContaining('no run no-such-run') });
  });

  test("the running page's policy: its own nonce'd scripts, requests only to the dashboard, a new nonce each time", async () => {
    const first = await get(open, `/runs/${liveRunId}`);
    const second = await get(open, `/runs/${liveRunId}`);
    const policy = String(first.headers['content-security-policy']);
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(policy)?.[1];
    expect(nonce).toBeDefined();
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).not.toMatch(/unsafe|script-src[^;]*'self'/);
    expect(String(second.headers['content-security-policy'])).not.toContain(nonce);
    // Every script and style element carries this answer's nonce; no meta refresh any more.
    const tags = first.text.match(/<(script|style)\b[^>]*>/g) ?? [];
    expect(tags.length).toBeGreaterThanOrEqual(5);
    for (const tag of tags) expect(tag).toContain(`nonce="${nonce}"`);
    expect(first.text).not.toContain('http-equiv="refresh"');
  });
});

browserTest('in Chromium: the running page changes without reloading, draws its windows, then settles on the report', async () => {
  const watched = await watch(`${open.url}/runs/${liveRunId}`);
  const { page } = watched;
  // Set once at load: it survives only as long as the page is not loaded again.
  await page.evaluate(`${LOADED_ONCE} = 'yes'`);
  await page.waitForFunction(atLeast, ['livePoints', 3] as const, { timeout: 30_000 });
  const look = async () => ({
    phases: await page.locator('#live-phases').innerText(),
    // None yet when the snapshot the page was served with already held the windows.
    polls: Number((await page.evaluate('document.body.dataset.polls')) ?? 0),
  });
  const first = await look();
  expect(first.phases).toMatch(/2\. steady\s+running/);
  expect(first.phases).toMatch(/shard 1 on live-worker\s+running/);
  expect(first.phases).toMatch(/shard 2 on live-worker\s+running/);
  expect(await page.locator('#live-state').innerText()).toBe('running phase 2 of 2 (steady)');
  expect(await page.locator('#live-latest').innerText()).toMatch(/requests\/s[^]*e2e p95[^]*TTFT p95/);
  // The criteria so far, in words, as the CLI prints them.
  expect(await page.locator('#live-criteria-title').innerText()).toMatch(/^Phase 2 \(steady\): criteria so far, over [\d.]+ s measured$/);
  expect(await page.locator('#live-criteria-words').innerText()).toMatch(/^3 holding, 1 at the end \(provisional/);
  expect(await page.locator('#live-criteria').innerText()).toMatch(
    /latency\.e2e\.p95 < 5s\s+holding\s+[\d.]+ ms < 5\.00 s[^]*memory\.harness\.peak < 8GB\s+judged at the end/,
  );
  // Mid-run, its shards running: the picture of a live page.
  mkdirSync(ARTEFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTEFACTS, 'dashboard-live-run.png'), fullPage: true });
  // Two polls later the counts have moved, on the same document.
  await page.waitForFunction(atLeast, ['polls', first.polls + 2] as const, { timeout: 10_000 });
  const second = await look();
  expect(second.phases).not.toBe(first.phases);
  expect(await page.evaluate(LOADED_ONCE)).toBe('yes');
  expect(await page.evaluate("performance.getEntriesByType('navigation').length")).toBe(1);
  expect(watched.navigations).toHaveLength(1);
  // The live charts hold data: pixels of their series' colours (throughput and e2e p95 at least).
  const [okPixels] = await pixelsOf(page, 'live-throughput', [LIVE_CHART_COLORS.ok]);
  const [p50Pixels, p95Pixels] = await pixelsOf(page, 'live-latency', [LIVE_CHART_COLORS.e2eP50, LIVE_CHART_COLORS.e2eP95]);
  // 10 pixels of a series' colour is data, not an anti-aliased stray (a line over three windows has hundreds).
  for (const [series, count] of Object.entries({ okPixels, p50Pixels, p95Pixels }))
    expect({ series, data: count! > 10 }).toEqual({ series, data: true });

  // The run ends: the page loads itself once more and shows the report, its charts drawn.
  await page.locator('header.verdict').waitFor({ timeout: 40_000 });
  await page.waitForFunction(chartsDrawn, undefined, { timeout: 20_000 });
  expect(watched.navigations).toHaveLength(2);
  expect(await page.evaluate(LOADED_ONCE)).toBeUndefined();
  const charts = (await page.evaluate(CHARTS_STATE)) as boolean[];
  expect(charts.length).toBeGreaterThan(3);
  expect(charts.every(Boolean)).toBe(true);
  expect(await page.getByRole('link', { name: 'All runs' }).getAttribute('href')).toBe('/runs');
  await page.screenshot({ path: join(ARTEFACTS, 'dashboard-live-settled.png'), fullPage: true });
  expect(watched.problems).toEqual([]);
});

describe('a finished run', () => {
  beforeAll(async () => {
    await watchRun({ redisUrl: redis.url, prefix, runId: liveRunId, pollMs: 100 });
  });

  test("the sharded phase judged on its shards' totals at the end gives the report's verdicts", async () => {
    const report = await following;
    const steady = report.phases[1]!;
    const criteria = loaded(LIVE_PLAN).plan.phases[1]!.criteria;
    const shards = lastPoll!.phases[1]!.shards;
    expect(shards.map((shard) => shard.state)).toEqual(['completed', 'completed']);
    const judged = judgeLive(
      criteria,
      shards.map((shard) => shard.totals),
    )!;
    expect(judged.measuredMs).toBe(steady.metrics.durationMs);
    expect(judged.criteria.map((item) => item.verdict)).toEqual(
      steady.criteria.map((item) => (item.metric.startsWith('memory.') ? null : item.verdict)),
    );
  });

  test('its page is report.html under a policy that allows its own scripts and no request, with the dashboard bar', async () => {
    const page = await get(open, `/runs/${failingRunId}`);
    expect(page.status).toBe(200);
    const policy = String(page.headers['content-security-policy']);
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(policy)?.[1];
    expect(policy).toContain("connect-src 'none'");
    expect(policy).toContain("default-src 'none'");
    expect(policy).not.toContain('unsafe');
    const tags = page.text.match(/<(script|style)\b[^>]*>/g) ?? [];
    // The bar's style, uPlot's and the report's styles, the chart data, uPlot, the drawing script.
    expect(tags.length).toBe(6);
    for (const tag of tags) expect(tag).toContain(`nonce="${nonce}"`);
    expect(page.text).toContain('<title>FAIL other-plan: grym-perf report');
    expect(page.text).toContain(`<a href="/runs/${failingRunId}/report.json">report.json</a>`);
    const live = JSON.parse((await get(open, `/runs/${failingRunId}/live.json`)).text) as LiveRun;
    expect(live).toMatchObject({ ended: true, passed: false, words: 'finished' });
  });

  browserTest('in Chromium its charts draw under the policy, with no violation', async () => {
    const watched = await watch(`${open.url}/runs/${failingRunId}`);
    await watched.page.waitForFunction(chartsDrawn, undefined, { timeout: 20_000 });
    const drawn = (await watched.page.evaluate(CHARTS_STATE)) as boolean[];
    expect(drawn.length).toBeGreaterThan(3);
    expect(drawn.every(Boolean)).toBe(true);
    expect(watched.problems).toEqual([]);
  });
});

describe('the runs list', () => {
  beforeAll(async () => {
    await watchRun({ redisUrl: redis.url, prefix, runId: liveRunId, pollMs: 100 });
  });

  const runsIn = (html: string) => [failingRunId, liveRunId].filter((runId) => html.includes(`>${runId}</a>`));

  test.each<[string, () => string[]]>([
    ['', () => [failingRunId, liveRunId]],
    ['?verdict=fail', () => [failingRunId]],
    ['?verdict=pass', () => [liveRunId]],
    ['?verdict=running', () => []],
    ['?plan=live', () => [liveRunId]],
    ['?plan=PLAN', () => [failingRunId]],
    ['?plan=other&verdict=pass', () => []],
    ['?plan=&verdict=', () => [failingRunId, liveRunId]],
  ])('/runs%s lists the matching runs', async (query, expected) => {
    const page = await get(open, `/runs${query}`);
    expect(page.status).toBe(200);
    expect(runsIn(page.text)).toEqual(expected());
  });

  test('newest first, with verdict, plan, submission time and duration; the form keeps its filters', async () => {
    const page = await get(open, '/runs?plan=o&verdict=fail');
    expect(page.text).toMatch(/<option value="fail" selected>/);
    expect(page.text).toContain('name="plan" maxlength="200" value="o"');
    const all = (await get(open, '/runs')).text;
    expect(all.indexOf(liveRunId)).toBeLessThan(all.indexOf(failingRunId));
    const row = new RegExp(
      `>${liveRunId}</a></td><td><a [^>]*>live-run</a></td><td><span class="pass">PASS</span></td>` +
        `<td>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC</td><td class="num">\\d+\\.\\d s</td>`,
    );
    expect(all).toMatch(row);
    expect(all).toContain('2 runs, newest first.');
    expect(page.text).toContain('1 of 2 runs match the filters.');
  });

  browserTest('in Chromium the filter form narrows the list (its policy lets it submit to /runs)', async () => {
    const watched = await watch(`${open.url}/runs`);
    const { page } = watched;
    await page.getByLabel('verdict').selectOption('fail');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/\/runs\?plan=&verdict=fail$/);
    expect(await page.getByRole('link', { name: failingRunId }).count()).toBe(1);
    expect(await page.getByRole('link', { name: liveRunId }).count()).toBe(0);
    await page.getByLabel('plan name contains').fill('live');
    await page.getByLabel('verdict').selectOption('');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/\/runs\?plan=live&verdict=$/);
    expect(await page.getByRole('link', { name: liveRunId }).count()).toBe(1);
    expect(await page.getByRole('link', { name: failingRunId }).count()).toBe(0);
    await page.screenshot({ path: join(ARTEFACTS, 'dashboard-runs-list.png'), fullPage: true });
    expect(watched.problems).toEqual([]);
  });

  test.each(['?verdict=bogus', '?plan=a&plan=b', `?plan=${'x'.repeat(201)}`])('/runs%s answers 400 naming the filter', async (query) => {
    const page = await get(open, `/runs${query}`);
    expect(page.status).toBe(400);
    expect(page.text).toMatch(/bad filter: (verdict|plan) must/);
  });
});
