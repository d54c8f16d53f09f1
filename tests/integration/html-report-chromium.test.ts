/**
 * report.html in a real headless Chromium: opened from disk with the network off, every chart
 * drawn with data (its series' colour found among the canvas pixels, not an empty frame), no
 * console error, no request attempted. Full-page screenshots go to test-results/. Also measures
 * how long uPlot takes to draw 10^5 points here, and the size of such a report.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { renderHtmlReport } from '../../src/coordinator/reports/html/render-html-report';
import type { RunReport } from '../../src/shared/run-report';
import { REPO_ROOT, runCli } from '../helpers/cli-process';
import { longTimelineReport, sampleReports } from '../helpers/sample-report';

// Chromium starts once; each report opens in a fresh offline context.
jest.setTimeout(60_000);

const CHROMIUM = '/usr/bin/chromium';
const ARTEFACTS = join(REPO_ROOT, 'test-results');
const CHARTS_DRAWN =
  'document.body.dataset.charts !== undefined && ' +
  "[...document.querySelectorAll('.chart')].every((c) => c.dataset.drawn || c.dataset.failed)";

/**
 * Per chart: whether it drew, and how many canvas pixels are within a small distance of its data
 * series' colours (lines, dots and bars; thresholds, grid and bands use other colours).
 */
const INSPECT_CHARTS = `(() => {
  const specs = JSON.parse(document.getElementById('grym-chart-data').textContent).charts;
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return specs.map((spec) => {
    const element = document.getElementById(spec.id);
    const canvas = element.querySelector('canvas');
    const colors = spec.series.filter((s) => s.values.some((v) => v !== null)).map((s) => rgb(s.color));
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let dataPixels = 0;
    const distinct = new Set();
    for (let i = 0; i < pixels.length; i += 4) {
      const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
      if (distinct.size < 64) distinct.add((r << 16) | (g << 8) | b);
      if (colors.some(([cr, cg, cb]) => Math.abs(r - cr) + Math.abs(g - cg) + Math.abs(b - cb) <= 40)) dataPixels++;
    }
    const { drawn, failed } = element.dataset;
    return { id: spec.id, drawn: drawn === 'true', failed: failed === 'true', dataPixels, colors: distinct.size };
  });
})()`;

const browserTest = existsSync(CHROMIUM) ? test : test.skip;
if (!existsSync(CHROMIUM)) console.warn(`report.html browser test skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

let browser: Browser;
let folder: string;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'grym-html-report-'));
  mkdirSync(ARTEFACTS, { recursive: true });
  if (!existsSync(CHROMIUM)) return;
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
});

afterAll(async () => {
  await browser?.close();
  rmSync(folder, { recursive: true, force: true });
});

interface OpenedReport {
  page: Page;
  /** Requests to anything but the file itself: each one aborted and counted. */
  requests: string[];
  /** Console errors and uncaught exceptions. */
  errors: string[];
  close(): Promise<void>;
}

/** Writes the report's HTML to disk and opens it offline, waiting until every chart has drawn. */
async function openFromDisk(report: RunReport, name: string): Promise<OpenedReport> {
  const path = join(folder, `${name}.html`);
  writeFileSync(path, renderHtmlReport(report));
  return openHtmlFile(path);
}

/** Opens an HTML file offline, every request but the file's own aborted, and waits until every chart has drawn. */
async function openHtmlFile(path: string): Promise<OpenedReport> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.setOffline(true);
  const requests: string[] = [];
  await context.route('**', async (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => {
    if (!request.url().startsWith('file:')) requests.push(request.url());
  });
  await page.goto(pathToFileURL(path).href);
  await page.waitForFunction(CHARTS_DRAWN, undefined, { timeout: 30_000 });
  return { page, requests, errors, close: () => context.close() };
}

/**
 * Every chart drew with data, with no console error and no request; the full page is saved to
 * test-results/html-report-<name>.png. Returns the ids of the charts.
 */
async function expectEveryChartDrawn(opened: OpenedReport, name: string): Promise<string[]> {
  const charts = (await opened.page.evaluate(INSPECT_CHARTS)) as Array<{
    id: string;
    drawn: boolean;
    failed: boolean;
    dataPixels: number;
    colors: number;
  }>;
  expect(charts.length).toBeGreaterThan(0);
  expect(await opened.page.locator('.chart').count()).toBe(charts.length);
  for (const chart of charts) {
    // A chart of one window is a few dots: 10 pixels of its colour is data, not an anti-aliased stray.
    expect({ id: chart.id, drawn: chart.drawn, failed: chart.failed, hasData: chart.dataPixels >= 10 }).toEqual({
      id: chart.id,
      drawn: true,
      failed: false,
      hasData: true,
    });
    expect(chart.colors).toBeGreaterThan(2);
  }
  await opened.page.screenshot({ path: join(ARTEFACTS, `html-report-${name}.png`), fullPage: true });
  expect(opened.errors).toEqual([]);
  expect(opened.requests).toEqual([]);
  return charts.map((chart) => chart.id);
}

describe.each(Object.entries(sampleReports()))('the %s sample report', (name, report) => {
  browserTest('opens from disk offline, draws every chart with data, no error, no request', async () => {
    const opened = await openFromDisk(report, name);
    try {
      await expectEveryChartDrawn(opened, name);
    } finally {
      await opened.close();
    }
  });
});

// The demo plan (`npm run demo`) really run against the built-in mock: about 50 s of load.
browserTest(
  "the demo plan's report.html, as a real run wrote it, opens offline and draws every chart of its three phases",
  async () => {
    const out = join(folder, 'demo');
    const { code, output } = await runCli(['run', join(REPO_ROOT, 'test-plans/tdr-011.yaml'), '--out', out, '--quiet'], {
      timeoutMs: 150_000,
    });
    // Its verdict is the run's: a busy CI machine can fail the stability phase (the report then says the machine was busy).
    expect({ exitedWithVerdict: code === 0 || code === 1, output }).toMatchObject({ exitedWithVerdict: true });
    const opened = await openHtmlFile(join(out, 'report.html'));
    try {
      const charts = await expectEveryChartDrawn(opened, 'demo');
      // Each phase drew its own charts: the switch sequence for cross-model, throughput for the others.
      expect(charts).toEqual(
        expect.arrayContaining(['phase-0-throughput', 'phase-1-switch-sequence', 'phase-2-throughput', 'phase-2-in-flight']),
      );
      console.log(`demo report: ${charts.length} charts drawn: ${charts.join(', ')}`);
      await opened.page.getByRole('heading', { name: code === 0 ? /PASS tdr-011/ : /FAIL tdr-011/ }).waitFor();
    } finally {
      await opened.close();
    }
  },
  180_000,
);

browserTest('the verdict and a failing criterion read as text, and a mark is SVG', async () => {
  const opened = await openFromDisk(sampleReports().full as RunReport, 'verdict');
  try {
    await opened.page.getByRole('heading', { name: /FAIL sample-run/ }).waitFor();
    const row = opened.page.getByRole('row', { name: /throughput\.rps.*under by 9\.65/ }).first();
    expect(await row.textContent()).toContain('fail');
    const mark = await opened.page.locator('header.verdict > svg.mark').boundingBox();
    expect(mark?.width).toBe(44);
  } finally {
    await opened.close();
  }
});

browserTest('uPlot draws 10^5 points fast, and a report of 10^5 windows opens', async () => {
  const report = longTimelineReport(100_000);
  const html = renderHtmlReport(report);
  const startedMs = Date.now();
  const opened = await openFromDisk(report, 'long-timeline');
  const openedMs = Date.now() - startedMs;
  try {
    // One chart of 10^5 points drawn alone in the page: construction to the end of its first draw.
    const drawMs = (await opened.page.evaluate(`new Promise((resolve) => {
      const n = 100000;
      const x = Array.from({ length: n }, (_, i) => i);
      const y = x.map((i) => 20 + 10 * Math.sin(i / 500) + 5 * Math.sin(i / 7));
      const element = document.createElement('div');
      document.body.appendChild(element);
      const started = performance.now();
      new uPlot({ width: 1200, height: 260, scales: { x: { time: false } }, series: [{}, { stroke: '#1f77b4' }],
        hooks: { draw: [() => resolve(performance.now() - started)] } }, [x, y], element);
    })`)) as number;
    const size = `${(html.length / 1e6).toFixed(1)} MB`;
    console.log(`uPlot, 10^5 points: ${drawMs.toFixed(0)} ms to draw; a report of 10^5 windows: ${size}, open and drawn in ${openedMs} ms`);
    // Measured about 30-60 ms on a 2-core CI machine; 2 s leaves room for a busy one and still fails a slow library.
    expect(drawMs).toBeLessThan(2_000);
    expect(opened.errors).toEqual([]);
  } finally {
    await opened.close();
  }
});
