/**
 * `report.html`: one self-contained page (uPlot, the styles, the data and the drawing script all
 * inline; no request of any kind, so it opens from disk and in a mail attachment). It reads only
 * the RunReport, so local and distributed runs render alike. Pure apart from reading uPlot's files
 * once, so the dashboard can serve the same page.
 */
import type { RunReport } from '../../../shared/run-report';
import type { ChartPanel, ReportChartData } from './chart-spec';
import { criteriaTable, type ChartOfCriterion } from './criteria-table';
import { drawCharts } from './draw-charts';
import { escapeHtml, jsonForScript } from './html-escape';
import { uPlotAssets } from './inline-assets';
import { phaseCharts, type PhaseCharts } from './phase-charts';
import { phaseSection } from './phase-section';
import { phaseSettings } from './phase-settings';
import { REPORT_CSS } from './report-styles';
import { verdictCard } from './verdict-card';

const DATA_ELEMENT_ID = 'grym-chart-data';

/** Which chart draws each phase's criterion (as a line, or in its caption), from what the charts carry. */
function chartsOfCriteria(charts: PhaseCharts[]): ChartOfCriterion {
  const shows = (panel: ChartPanel, metric: string) =>
    panel.spec.thresholds.some((threshold) => threshold.metric === metric) || (panel.notedMetrics ?? []).includes(metric);
  return (phaseIndex, metric) => charts[phaseIndex]?.panels.find((panel) => shows(panel, metric))?.spec.id;
}

/**
 * The drawing script: `drawCharts` as source, called on the page's window. tsx (esbuild) wraps
 * named functions in `__name(fn, "name")` to keep their names; the shim makes that a no-op where
 * the source came from tsx, and is unused where it came from tsc or swc.
 */
function drawingScript(): string {
  const source = drawCharts.toString().replace(/<\/script/gi, '<\\/script');
  return `var __name = function (target) { return target; };\n(${source})(window, ${JSON.stringify(DATA_ELEMENT_ID)});`;
}

export interface HtmlReportOptions {
  /**
   * A Content-Security-Policy nonce put on every <script> and <style> of the page, so that a server
   * can serve it under a policy that allows exactly these (the dashboard does, one nonce per
   * answer). Absent, the page is the plain file `grym-perf run` writes.
   */
  nonce?: string;
}

/** The report as one HTML page. */
export function renderHtmlReport(report: RunReport, options: HtmlReportOptions = {}): string {
  const nonce = options.nonce === undefined ? '' : ` nonce="${escapeHtml(options.nonce)}"`;
  const settings = report.phases.map((phase) => phaseSettings(report.resolvedPlan, phase.name));
  const charts = report.phases.map((phase, index) => phaseCharts(phase, index, settings[index] ?? phaseSettings(null, phase.name)));
  const data: ReportChartData = { charts: charts.flatMap((phase) => phase.panels.map((panel) => panel.spec)) };
  const uPlot = uPlotAssets();
  const sections = report.phases.map((phase, index) =>
    phaseSection(phase, index, settings[index] ?? phaseSettings(null, phase.name), charts[index] as PhaseCharts),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${report.passed ? 'PASS' : 'FAIL'} ${report.plan.name}: grym-perf report ${report.runId}`)}</title>
<style${nonce}>${uPlot.css}</style>
<style${nonce}>${REPORT_CSS}</style>
</head>
<body>
<main>
${verdictCard(report)}
<noscript><p class="banner warn">The charts need JavaScript; the tables and figures are complete without it.</p></noscript>
${criteriaTable(report, chartsOfCriteria(charts))}
${sections.join('\n')}
<footer>grym-perf ${escapeHtml(report.tool.version)}, report schema ${report.schemaVersion}. Charts drawn with uPlot
${escapeHtml(uPlot.version)} (MIT), inlined: this page makes no network request.</footer>
</main>
<script type="application/json" id="${DATA_ELEMENT_ID}"${nonce}>${jsonForScript(data)}</script>
<script${nonce}>${uPlot.script}</script>
<script${nonce}>${drawingScript()}</script>
</body>
</html>
`;
}
