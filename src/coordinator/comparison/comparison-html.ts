/**
 * A comparison as one self-contained HTML page: the Markdown tables' content as HTML, and for each
 * compared phase the two runs' end-to-end latency and time to first token over time, overlaid
 * (BASE dashed, NEW solid; p50 and p95 of each window). It reuses report.html's pieces: the chart
 * spec, the drawing script, uPlot inlined, the styles and the escaping.
 */
import type { PhaseReport, RunReport } from '../../shared/run-report';
import { formatValue } from '../../shared/units';
import type { ChartSpec, ReportChartData, SeriesSpec } from '../reports/html/chart-spec';
import { PERCENTILE_COLORS } from '../reports/html/chart-palette';
import { hasValues, rounded, secondsOf } from '../reports/html/chart-values';
import { renderChartPage } from '../reports/html/chart-page';
import { escapeHtml } from '../reports/html/html-escape';
import { uPlotAssets } from '../reports/html/inline-assets';
import type { RunComparison } from './compare-runs';
import { VERDICT_DEFINITIONS } from './comparison-markdown';
import { formatChange } from './explain-verdict';
import type { MetricComparison } from './metric-comparison';
import { thresholdCell, whyCell } from './threshold-words';
import { VERDICTS, type Verdict } from './verdict';

const VERDICT_CLASS: Record<Verdict, string> = { regressed: 'fail', improved: 'pass', unchanged: 'pass', inconclusive: 'warn' };

/** One latency of one phase over time, both runs on one x axis (seconds since each phase started). */
function overlayChart(id: string, latency: 'e2e' | 'ttft', base: PhaseReport, next: PhaseReport): ChartSpec | undefined {
  const middle = (point: { tMs: number; spanMs: number }) => secondsOf(point.tMs + point.spanMs / 2);
  const x = [...new Set([...base.metrics.timeline.points.map(middle), ...next.metrics.timeline.points.map(middle)])].sort((a, b) => a - b);
  const series: SeriesSpec[] = [];
  for (const [label, phase, style] of [
    ['BASE', base, 'dashed'],
    ['NEW', next, 'line'],
  ] as const) {
    const byX = new Map(phase.metrics.timeline.points.map((point) => [middle(point), point[latency]]));
    for (const stat of ['p50', 'p95'] as const) {
      const values = x.map((at) => {
        const percentiles = byX.get(at);
        return percentiles ? rounded(percentiles[stat]) : null;
      });
      series.push({ label: `${label} ${stat}`, color: PERCENTILE_COLORS[stat], style, values, spanGaps: true });
    }
  }
  if (!series.some((one) => hasValues(one.values))) return undefined;
  const title = latency === 'e2e' ? 'End-to-end latency over time' : 'Time to first token over time';
  return {
    id,
    title,
    x,
    xRange: [x[0] ?? 0, x.at(-1) ?? 1],
    xAxis: { label: 'seconds since the phase started', unit: 'seconds' },
    y: { label: 'milliseconds', unit: 'ms', min: 0 },
    series,
    thresholds: [],
    xBands: [],
    yBands: [],
    marks: [],
    points: [],
  };
}

function valueCell(metric: MetricComparison, value: number | null): string {
  return escapeHtml(formatValue(metric.scale === 'duration' ? 'duration' : metric.scale === 'rate' ? 'rate' : 'ratio', value));
}

function metricRow(metric: MetricComparison): string {
  const change =
    metric.difference === null
      ? 'n/a'
      : metric.scale === 'ratio'
        ? formatChange('points', metric.difference)
        : metric.relativeChange === null
          ? String(metric.difference)
          : formatChange('relative', metric.relativeChange);
  return `<tr><td><code>${escapeHtml(metric.metric)}</code></td><td class="num">${valueCell(metric, metric.base)}</td><td class="num">${valueCell(metric, metric.new)}</td><td class="num">${escapeHtml(change)}</td><td class="num">${escapeHtml(thresholdCell(metric))}</td><td><span class="result ${VERDICT_CLASS[metric.verdict]}">${metric.verdict}</span></td><td>${escapeHtml(whyCell(metric))}</td></tr>`;
}

export function renderComparisonHtml(comparison: RunComparison, baseReport: RunReport, newReport: RunReport): string {
  const uPlot = uPlotAssets();
  const charts: ChartSpec[] = [];
  const sections = comparison.phases.map((phase, index) => {
    const base = baseReport.phases.find((candidate) => candidate.name === phase.phase);
    const next = newReport.phases.find((candidate) => candidate.name === phase.phase);
    const panels: string[] = [];
    if (base && next) {
      for (const latency of ['e2e', 'ttft'] as const) {
        const spec = overlayChart(`phase-${index}-${latency}-overlay`, latency, base, next);
        if (!spec) continue;
        charts.push(spec);
        panels.push(
          `<figure class="panel"><div class="chart" id="${spec.id}"></div><figcaption>${escapeHtml(spec.title)}: p50 and p95 of each window, BASE dashed, NEW solid.</figcaption></figure>`,
        );
      }
    }
    const rows = phase.metrics.map(metricRow).join('\n');
    return `<section class="phase"><h2>Phase <code>${escapeHtml(phase.phase)}</code></h2>
<table><thead><tr><th>Metric</th><th>BASE</th><th>NEW</th><th>Change</th><th>Threshold</th><th>Verdict</th><th>Why</th></tr></thead><tbody>
${rows}
</tbody></table>
<div class="charts">${panels.join('\n')}</div></section>`;
  });
  const warnings = comparison.warnings.map((warning) => `<p class="banner warn">${escapeHtml(warning)}</p>`).join('\n');
  const data: ReportChartData = { charts };
  const legend = VERDICTS.map((verdict) => `<li><b>${verdict}</b>: ${escapeHtml(VERDICT_DEFINITIONS[verdict])}</li>`).join('');
  return renderChartPage({
    title: `${comparison.verdict.toUpperCase()} ${comparison.base.runId} -> ${comparison.new.runId}: grym-perf comparison`,
    main: `<div class="verdict ${VERDICT_CLASS[comparison.verdict] === 'fail' ? 'fail' : 'pass'}"><div>
<h1>grym-perf comparison: <span class="word">${comparison.verdict.toUpperCase()}</span></h1>
<dl class="facts"><dt>BASE</dt><dd><code>${escapeHtml(comparison.base.runId)}</code> (${escapeHtml(comparison.base.startedAt)}, fingerprint ${escapeHtml(comparison.base.fingerprint.hash)})</dd>
<dt>NEW</dt><dd><code>${escapeHtml(comparison.new.runId)}</code> (${escapeHtml(comparison.new.startedAt)}, fingerprint ${escapeHtml(comparison.new.fingerprint.hash)})</dd></dl>
</div></div>
${warnings}
${sections.join('\n')}
<footer>Verdicts: <ul>${legend}</ul> as defined in the README ("History and comparison"). Charts drawn with uPlot ${escapeHtml(uPlot.version)} (MIT), inlined.</footer>`,
    data,
  });
}
