/**
 * Renders a report.json to report.html and photographs its first screenful in headless Chromium,
 * offline, as a small PNG (the README's picture of the report):
 *
 *   npx tsx scripts/report-screenshot.ts reports/tdr-011/report.json docs/report.png [--width 1200] [--height 900] [--at '#phase-0']
 *
 * The page is opened from disk with the network off; the shot is taken once every chart has drawn.
 * `--at SELECTOR` starts the picture at that element (`#phase-0`: the first phase's charts) instead
 * of the page's top (the verdict and the criteria).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { renderHtmlReport } from '../src/coordinator/reports/html/render-html-report';
import type { RunReport } from '../src/shared/run-report';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** True in the page once the script ran and every chart drew (or failed, which the page then says). */
const CHARTS_DRAWN =
  'document.body.dataset.charts !== undefined && ' +
  "[...document.querySelectorAll('.chart')].every((c) => c.dataset.drawn || c.dataset.failed)";

export interface ScreenshotOptions {
  widthPx?: number;
  heightPx?: number;
  /** CSS selector of the element the picture starts at; the page's top when absent. */
  at?: string;
}

/** Renders `report` and saves a PNG of one screenful of it to `pngPath`; returns its size in bytes. */
export async function screenshotReport(report: RunReport, pngPath: string, options: ScreenshotOptions = {}): Promise<number> {
  const { widthPx = 1200, heightPx = 900, at } = options;
  const folder = mkdtempSync(join(tmpdir(), 'grym-report-'));
  const htmlPath = join(folder, 'report.html');
  writeFileSync(htmlPath, renderHtmlReport(report));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  try {
    const context = await browser.newContext({ viewport: { width: widthPx, height: heightPx }, deviceScaleFactor: 1 });
    await context.setOffline(true);
    // Nothing but the file itself may load; a request elsewhere would be a bug in the report.
    await context.route(/^(?!file:)/, (route) => route.abort());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(pathToFileURL(htmlPath).href);
    await page.waitForFunction(CHARTS_DRAWN);
    if (errors.length > 0) throw new Error(`the report's script failed: ${errors.join('; ')}`);
    const top = at ? ((await page.locator(at).first().boundingBox())?.y ?? 0) : 0;
    // fullPage lets the clip reach below the first viewport.
    await page.screenshot({
      path: pngPath,
      type: 'png',
      fullPage: true,
      clip: { x: 0, y: Math.max(0, top - 8), width: widthPx, height: heightPx },
    });
    return statSync(pngPath).size;
  } finally {
    await browser.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { width: { type: 'string', default: '1200' }, height: { type: 'string', default: '900' }, at: { type: 'string' } },
  });
  const [reportPath, pngPath] = positionals;
  if (!reportPath || !pngPath) {
    console.error('usage: tsx scripts/report-screenshot.ts REPORT.json OUT.png [--width 1200] [--height 900] [--at SELECTOR]');
    process.exit(2);
  }
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as RunReport;
  const options = { widthPx: Number(values.width), heightPx: Number(values.height), ...(values.at ? { at: values.at } : {}) };
  const bytes = await screenshotReport(report, resolve(pngPath), options);
  console.log(`wrote ${pngPath} (${(bytes / 1000).toFixed(0)} kB)`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
