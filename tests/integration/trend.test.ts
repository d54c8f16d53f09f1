/**
 * `grym-perf trend` and the noise calibration through the real CLI: a seeded history with a step
 * change kept in a local folder and in a real redis-server (by the history stores `run` uses), read
 * the way `history` reads them; the HTML page drawn offline in Chromium.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { RunComparison } from '../../src/coordinator/comparison';
import { openHistoryStore, type HistoryEntry } from '../../src/coordinator/history';
import type { ChartSpec, ReportChartData } from '../../src/coordinator/reports/html/chart-spec';
import type { PlanTrend } from '../../src/coordinator/trend/build-trend';
import { sampleStandardNormal } from '../../src/coordinator/statistics';
import { createRandom } from '../../src/shared/seeded-random';
import { runCli } from '../helpers/cli-process';
import { keptRun, steppedHistory } from '../helpers/kept-runs';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

// A dozen CLI processes, each loading TypeScript through tsx (~3 s apiece on the loaded 2-core machine).
jest.setTimeout(120_000);

const CHROMIUM = '/usr/bin/chromium';
const work = mkdtempSync(join(tmpdir(), 'grym-trend-'));
const folder = join(work, 'history');
const PREFIX = `trend${process.pid}`;
let redis: TestRedis;

/** The stepped history, four runs on another machine, an interrupted run. */
function history(): HistoryEntry[] {
  return [
    ...steppedHistory(),
    ...[3, 7, 11, 15].map((index) => keptRun(index, { e2eP95Ms: 60, host: 'ci-7', name: 'ci7-run' })),
    keptRun(20, { e2eP95Ms: 500, aborted: true }),
  ];
}

async function keep(entries: HistoryEntry[], location: Parameters<typeof openHistoryStore>[0]): Promise<void> {
  const store = await openHistoryStore(location);
  try {
    for (const entry of entries) await store.save(entry);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  redis = await startTestRedis();
  await keep(history(), { kind: 'folder', dir: folder });
  // The runs are dated November 2026 and Redis drops runs older than the retention: 400 days keeps them.
  await keep(history(), { kind: 'redis', url: redis.url, prefix: PREFIX, retentionMs: 400 * 24 * 3_600_000 });
});

afterAll(async () => {
  await redis?.destroy();
});

const e2eP95Of = (trend: PlanTrend, series = 0) =>
  trend.series[series]!.phases[0]!.metrics.find((metric) => metric.metric === 'latency.e2e.p95')!;

test('trend --plan over a folder history: the step at the right run, the other machine apart, JSON and a self-contained HTML', async () => {
  const json = join(work, 'trend.json');
  const html = join(work, 'trend.html');
  const { code, output } = await runCli(['trend', '--plan', 'smoke', '--history', folder, '--json', json, '--html', html]);
  expect({ code }).toEqual({ code: 0 });
  expect(output).toContain(`trend of plan smoke: 24 runs in 2 series, history at ${folder}`);
  expect(output).toMatch(/latency\.e2e\.p95 +20 +\S+ ms +\S+ ms \(8 runs\)/);
  expect(output).toMatch(/↳ change point at run smoke-run-12 \(#13\): \S+ ms → \S+ ms \(\+2\d\.\d %, Welch p = /);
  expect(output).toContain('kept apart from series 1, its environment or workload differs: harness.hosts: ["ci-7"] → ["host-0"]');
  expect(output).toContain('left out: smoke-run-20: interrupted');

  const trend = JSON.parse(readFileSync(json, 'utf8')) as PlanTrend;
  expect(e2eP95Of(trend).changePoints.map((point) => point.runId)).toEqual(['smoke-run-12']);
  expect(trend.series[1]!.runs.map((run) => run.runId)).toEqual(['ci7-run-03', 'ci7-run-07', 'ci7-run-11', 'ci7-run-15']);

  const page = readFileSync(html, 'utf8');
  // Self-contained: uPlot inlined, nothing fetched.
  expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  expect(page).toContain('grym-perf trend: <span class="word">smoke</span>');
  const data = JSON.parse(/<script type="application\/json" id="grym-chart-data">([\s\S]*?)<\/script>/.exec(page)![1]!) as ReportChartData;
  const chart = data.charts.find((spec) => spec.title.startsWith('latency.e2e.p95') && spec.x.length === 20)!;
  expect(chart.marks).toEqual([expect.objectContaining({ x: 13 })]);
});

test('trend reads the Redis history as `history` does: --redis, or --history redis://', async () => {
  for (const flags of [
    ['--redis', redis.url, '--prefix', PREFIX],
    ['--history', redis.url, '--prefix', PREFIX],
  ]) {
    const json = join(work, `trend-redis-${flags[0]!.slice(2)}.json`);
    const { code, output } = await runCli(['trend', '--plan', 'smoke', ...flags, '--json', json], { env: { GRYM_HISTORY_DIR: '' } });
    expect({ flags, code }).toEqual({ flags, code: 0 });
    expect(output).toContain(`history at redis://127.0.0.1:${redis.port}`);
    expect(e2eP95Of(JSON.parse(readFileSync(json, 'utf8')) as PlanTrend).changePoints.map((point) => point.runId)).toEqual([
      'smoke-run-12',
    ]);
  }
});

test('trend without --plan is a usage error; a plan with no runs says so', async () => {
  expect((await runCli(['trend', '--history', folder])).code).toBe(2);
  const none = await runCli(['trend', '--plan', 'nothing-here', '--history', folder]);
  expect(none.code).toBe(0);
  expect(none.output).toContain(`no runs of plan nothing-here in the history at ${folder}`);
});

test("compare widens a default threshold by the noise of earlier runs like NEW, and says so; the plan's own stays", async () => {
  // Ten runs of unchanged code at 8 % run-to-run noise, then NEW 15 % above BASE: past the default 10 %.
  const noisy = join(work, 'noisy');
  const uniform = createRandom(5);
  const entries = Array.from({ length: 12 }, (_, index) =>
    keptRun(index, { e2eP95Ms: index === 11 ? 115 : 100 * (1 + (index === 10 ? 0 : 0.08 * sampleStandardNormal(uniform))) }),
  );
  await keep(entries, { kind: 'folder', dir: noisy });
  const json = join(work, 'noisy-compare.json');
  const { code, output } = await runCli(['compare', 'smoke-run-10', 'smoke-run-11', '--history', noisy, '--json', json]);
  const comparison = JSON.parse(readFileSync(json, 'utf8')) as RunComparison;
  const p95 = comparison.phases[0]!.metrics.find((metric) => metric.metric === 'latency.e2e.p95')!;
  expect(p95.thresholdSource).toBe('history');
  expect(p95.thresholdNote).toMatch(/^default \+10%, widened to \+(\d+)% by the noise of 11 earlier runs$/);
  expect(p95.threshold.value).toBeGreaterThan(0.15);
  expect(output).toContain(`| ${p95.threshold.text} (history) |`);
  expect(output).toContain(`threshold: ${p95.thresholdNote}`);
  expect(output).toMatch(/Thresholds: \d+ defaults? (was|were) widened/);
  // Kept from report files (no histograms), the latencies are shown and not tested: nothing regressed.
  expect(code).toBe(0);
});

const browserTest = existsSync(CHROMIUM) ? test : test.skip;

browserTest('the trend page draws every chart offline, the change point marked', async () => {
  const html = join(work, 'trend.html');
  expect(existsSync(html)).toBe(true);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.setOffline(true);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(pathToFileURL(html).href);
    await page.waitForFunction("[...document.querySelectorAll('.chart')].every((c) => c.dataset.drawn || c.dataset.failed)");
    const charts = (await page.evaluate(
      "[...document.querySelectorAll('.chart')].map((chart) => ({ id: chart.id, drawn: chart.dataset.drawn === 'true' }))",
    )) as Array<{ id: string; drawn: boolean }>;
    const data = JSON.parse((await page.evaluate("document.getElementById('grym-chart-data').textContent")) as string) as ReportChartData;
    expect(errors).toEqual([]);
    expect(charts.length).toBe(data.charts.length);
    expect(charts.every((chart) => chart.drawn)).toBe(true);
    expect(data.charts.some((spec: ChartSpec) => spec.marks.length > 0)).toBe(true);
  } finally {
    await browser.close();
  }
});
