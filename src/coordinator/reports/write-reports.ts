/**
 * Writes a run's reports: `report.json` (the versioned `RunReport`), `report.md` (for a pull
 * request) and `report.html` (one self-contained page with the charts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunReport } from '../../shared/run-report';
import { renderHtmlReport } from './html/render-html-report';
import { renderMarkdownReport } from './markdown-report';

export interface ReportPaths {
  jsonPath: string;
  markdownPath: string;
  htmlPath: string;
}

/** Where `writeReports` writes in `outDir`. */
export function reportPaths(outDir: string): ReportPaths {
  return { jsonPath: join(outDir, 'report.json'), markdownPath: join(outDir, 'report.md'), htmlPath: join(outDir, 'report.html') };
}

export async function writeReports(report: RunReport, outDir: string): Promise<ReportPaths> {
  await mkdir(outDir, { recursive: true });
  const paths = reportPaths(outDir);
  await writeFile(paths.jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(paths.markdownPath, renderMarkdownReport(report));
  await writeFile(paths.htmlPath, renderHtmlReport(report));
  return paths;
}
