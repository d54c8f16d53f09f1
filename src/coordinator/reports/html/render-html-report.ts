/**
 * `report.html`: one self-contained page (uPlot, the styles, the data and the drawing script all
 * inline; no request of any kind, so it opens from disk and in a mail attachment). It reads only
 * the RunReport, so local and distributed runs render alike. Pure apart from reading uPlot's files
 * once, so the dashboard can serve the same page.
 */
import type { RunReport } from '../../../shared/run-report';
import type { ChartPanel, ReportChartData } from './chart-spec';
import { criteriaTable, type ChartOfCriterion } from './criteria-table';
import { renderChartPage, type ChartPage } from './chart-page';
import { escapeHtml } from './html-escape';
import { uPlotAssets } from './inline-assets';
import { phaseCharts, type PhaseCharts } from './phase-charts';
import { phaseSection } from './phase-section';
import { phaseSettings } from './phase-settings';
import { verdictCard } from './verdict-card';

/** Which chart draws each phase's criterion (as a line, or in its caption), from what the charts carry. */
function chartsOfCriteria(charts: PhaseCharts[]): ChartOfCriterion {
  const shows = (panel: ChartPanel, metric: string) =>
    panel.spec.thresholds.some((threshold) => threshold.metric === metric) || (panel.notedMetrics ?? []).includes(metric);
  return (phaseIndex, metric) => charts[phaseIndex]?.panels.find((panel) => shows(panel, metric))?.spec.id;
}

/** Absent nonce: the page is the plain file `grym-perf run` writes. */
export type HtmlReportOptions = Pick<ChartPage, 'nonce'>;

/** The report as one HTML page. */
export function renderHtmlReport(report: RunReport, options: HtmlReportOptions = {}): string {
  const settings = report.phases.map((phase) => phaseSettings(report.resolvedPlan, phase.name));
  const charts = report.phases.map((phase, index) => phaseCharts(phase, index, settings[index] ?? phaseSettings(null, phase.name)));
  const data: ReportChartData = { charts: charts.flatMap((phase) => phase.panels.map((panel) => panel.spec)) };
  const sections = report.phases.map((phase, index) =>
    phaseSection(phase, index, settings[index] ?? phaseSettings(null, phase.name), charts[index] as PhaseCharts),
  );
  return renderChartPage({
    title: `${report.passed ? 'PASS' : 'FAIL'} ${report.plan.name}: grym-perf report ${report.runId}`,
    main: `${verdictCard(report)}
<noscript><p class="banner warn">The charts need JavaScript; the tables and figures are complete without it.</p></noscript>
${criteriaTable(report, chartsOfCriteria(charts))}
${sections.join('\n')}
<footer>grym-perf ${escapeHtml(report.tool.version)}, report schema ${report.schemaVersion}. Charts drawn with uPlot
${escapeHtml(uPlotAssets().version)} (MIT), inlined: this page makes no network request.</footer>`,
    data,
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
  });
}
