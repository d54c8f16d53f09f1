/**
 * A plan's trend as one self-contained HTML page: per series (environment) its runs, and per phase
 * one chart per metric over runs (change points marked, segment levels dashed, the noise envelope
 * shaded) with the table the console prints. It reuses report.html's pieces: the chart spec, the
 * drawing script, uPlot inlined, the styles and the escaping.
 */
import type { ChartSpec, ReportChartData } from '../reports/html/chart-spec';
import { renderChartPage } from '../reports/html/chart-page';
import { escapeHtml } from '../reports/html/html-escape';
import { uPlotAssets } from '../reports/html/inline-assets';
import type { PlanTrend, TrendSeries } from './build-trend';
import type { MetricTrend } from './metric-trend';
import { formatPercent as percent, formatSignedPercent as signedPercent, formatTrendValue } from './trend-format';
import { trendChart } from './trend-chart';

function metricRow(trend: MetricTrend): string {
  const values = trend.points.filter((point) => point.value !== null);
  const level = trend.segments.at(-1);
  const changes = trend.changePoints
    .map(
      (point) =>
        `#${point.position + 1} <code>${escapeHtml(point.runId)}</code>: ${escapeHtml(formatTrendValue(trend.scale, point.before))} → ` +
        `${escapeHtml(formatTrendValue(trend.scale, point.after))} (${signedPercent(point.relativeChange)}, p = ${point.pValue.toPrecision(2)})`,
    )
    .join('<br>');
  return `<tr><td><code>${escapeHtml(trend.metric)}</code></td><td class="num">${values.length}</td><td class="num">${escapeHtml(
    formatTrendValue(trend.scale, values.at(-1)?.value ?? null),
  )}</td><td class="num">${level ? escapeHtml(formatTrendValue(trend.scale, level.level)) : 'n/a'}</td><td class="num">${percent(
    trend.envelope?.relativeSigma,
  )}</td><td class="num">${percent(trend.envelope?.pairwiseSpread)}</td><td class="num">${percent(
    trend.envelope?.suggestedThreshold,
  )}</td><td>${changes || 'none'}</td></tr>`;
}

function seriesSection(series: TrendSeries, index: number, charts: ChartSpec[]): string {
  const differences =
    series.differences.length > 0
      ? `<p class="banner warn">Kept apart from series 1: ${series.differences.map((line) => escapeHtml(line)).join('; ')}</p>`
      : '';
  const runs = series.runs
    .map(
      (run, position) =>
        `<tr><td class="num">#${position + 1}</td><td><code>${escapeHtml(run.runId)}</code></td><td>${escapeHtml(run.startedAt)}</td><td>${run.verdict}</td></tr>`,
    )
    .join('\n');
  const phases = series.phases.map((phase, phaseIndex) => {
    const panels: string[] = [];
    phase.metrics.forEach((trend, metricIndex) => {
      const spec = trendChart(`series-${index}-phase-${phaseIndex}-metric-${metricIndex}`, trend);
      if (!spec) return;
      charts.push(spec);
      panels.push(
        `<figure class="panel"><h3>${escapeHtml(spec.title)}</h3><div class="chart" id="${spec.id}" role="img" aria-label="${escapeHtml(spec.title)}"></div>` +
          `<figcaption>${trend.changePoints.length} change point${trend.changePoints.length === 1 ? '' : 's'} (red); dashed: the level of each segment; shaded: the noise envelope around the current level.</figcaption></figure>`,
      );
    });
    return `<h3>Phase <code>${escapeHtml(phase.phase)}</code></h3>
<table><thead><tr><th>Metric</th><th>Runs</th><th>Latest</th><th>Level</th><th>Noise sd</th><th>A/A p95</th><th>Suggested</th><th>Change points</th></tr></thead><tbody>
${phase.metrics.map(metricRow).join('\n')}
</tbody></table>
<div class="charts">${panels.join('\n')}</div>`;
  });
  return `<section class="phase"><h2>Series ${index + 1}: fingerprint <code>${escapeHtml(series.fingerprint.hash)}</code>, plan hash <code>${escapeHtml(series.planHash.slice(0, 12))}</code></h2>
${differences}
<details><summary>${series.runs.length} run${series.runs.length === 1 ? '' : 's'}, oldest first</summary><table><thead><tr><th>#</th><th>Run</th><th>Started</th><th>Verdict</th></tr></thead><tbody>
${runs}
</tbody></table></details>
${phases.join('\n')}</section>`;
}

/** The trend as one self-contained HTML page (uPlot and the data inlined: it fetches nothing). */
export function renderTrendHtml(trend: PlanTrend): string {
  const uPlot = uPlotAssets();
  const charts: ChartSpec[] = [];
  const sections = trend.series.map((series, index) => seriesSection(series, index, charts));
  const data: ReportChartData = { charts };
  const skipped = trend.skipped.map((run) => `<li><code>${escapeHtml(run.runId)}</code>: ${escapeHtml(run.reason)}</li>`).join('');
  return renderChartPage({
    title: `trend of ${trend.plan}: grym-perf`,
    main: `<div class="verdict pass"><div>
<h1>grym-perf trend: <span class="word">${escapeHtml(trend.plan)}</span></h1>
<p class="summary">${trend.series.reduce((sum, series) => sum + series.runs.length, 0)} runs in ${trend.series.length} series (one per environment fingerprint and workload), history at ${escapeHtml(trend.where)}.</p>
</div></div>
<noscript><p class="banner warn">The charts need JavaScript; the tables are complete without it.</p></noscript>
${sections.join('\n')}
${skipped ? `<div>Left out: <ul>${skipped}</ul></div>` : ''}
<footer>Change points: E-divisive means proposes, Welch's t-test keeps; noise envelope: the spread of runs between change points, as defined in the README ("History and comparison"). Charts drawn with uPlot ${escapeHtml(uPlot.version)} (MIT), inlined.</footer>`,
    data,
  });
}
