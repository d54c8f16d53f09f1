/**
 * A finished run's page: its report.html, the same page `grym-perf run` writes, with every inline
 * script and style carrying the answer's nonce (it is served under `setScriptPagePolicy(..., {
 * connect: 'none' })`: its own scripts and styles, no request of any kind), and a thin dashboard bar
 * above the report (back to the runs, the raw reports) that leaves the report's own layout alone.
 */
import { renderHtmlReport } from '../coordinator/reports/html/render-html-report';
import type { RunReport } from '../shared/run-report';
import { escapeHtml } from './page-layout';

// Aligned with report.html's <main> (max-width 1400px, padding 24px), so the bar sits above the verdict card.
const BAR_CSS = `
nav.dashboard { max-width: 1400px; margin: 0 auto; padding: 10px 24px 0; display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 13px; }
nav.dashboard a:first-child { font-weight: 600; }
`;

/** Puts `insert` right after the first `marker` of `html` (which the report always has once, in its skeleton). */
function insertAfter(html: string, marker: string, insert: string): string {
  const at = html.indexOf(marker);
  if (at < 0) throw new Error(`report.html has no ${marker}`);
  return html.slice(0, at + marker.length) + insert + html.slice(at + marker.length);
}

/** The report page of a finished run, as the dashboard serves it. */
export function renderReportPage(report: RunReport, runId: string, nonce: string): string {
  const base = `/runs/${encodeURIComponent(runId)}`;
  const bar =
    `\n<nav class="dashboard" aria-label="dashboard"><a href="/runs">All runs</a>` +
    `<a href="${base}/report.json">report.json</a><a href="${base}/report.md">report.md</a><a href="/board">Queues (bull-board)</a></nav>`;
  // The title is escaped text, so the first </title> ends the head's one user-written part: styles go after it.
  const html = renderHtmlReport(report, { nonce });
  return insertAfter(insertAfter(html, '</title>', `\n<style nonce="${escapeHtml(nonce)}">${BAR_CSS}</style>`), '<body>', bar);
}
