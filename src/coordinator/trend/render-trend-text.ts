/**
 * A plan's trend as the console shows it: each series (environment) apart, then per phase one line
 * per metric (runs, latest value, current level, noise, the threshold the noise suggests, change
 * points) and, under it, each change point: at which run, the level before and after, the change.
 */
import { statisticsDefaults } from '../statistics';
import type { PlanTrend, TrendSeries } from './build-trend';
import type { MetricTrend } from './metric-trend';
import { formatPercent as percent, formatSignedPercent as signedPercent, formatTrendValue } from './trend-format';

/** Pads each column to its widest cell. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
}

function metricRow(trend: MetricTrend): string[] {
  const values = trend.points.filter((point) => point.value !== null);
  const excluded = trend.points.filter((point) => point.excluded !== null).length;
  const level = trend.segments.at(-1);
  return [
    trend.metric,
    `${values.length}${excluded > 0 ? ` (+${excluded} left out)` : ''}`,
    formatTrendValue(trend.scale, values.at(-1)?.value ?? null),
    level ? `${formatTrendValue(trend.scale, level.level)} (${level.runs} runs)` : 'n/a',
    percent(trend.envelope?.relativeSigma),
    percent(trend.envelope?.pairwiseSpread),
    percent(trend.envelope?.suggestedThreshold),
    String(trend.changePoints.length),
  ];
}

function changePointLines(trend: MetricTrend): string[] {
  return trend.changePoints.map(
    (point) =>
      `      ↳ change point at run ${point.runId} (#${point.position + 1}): ` +
      `${formatTrendValue(trend.scale, point.before)} → ${formatTrendValue(trend.scale, point.after)} ` +
      `(${signedPercent(point.relativeChange)}, Welch p = ${point.pValue.toPrecision(2)})`,
  );
}

function seriesLines(series: TrendSeries, index: number, count: number): string[] {
  const first = series.runs[0]!;
  const last = series.runs.at(-1)!;
  const lines = [
    `series ${index + 1} of ${count}: fingerprint ${series.fingerprint.hash}, plan hash ${series.planHash.slice(0, 12)}: ` +
      `${series.runs.length} run${series.runs.length === 1 ? '' : 's'}, ${first.runId} (${first.startedAt}) .. ${last.runId} (${last.startedAt})`,
  ];
  if (series.differences.length > 0) {
    lines.push(`  kept apart from series 1, its environment or workload differs: ${series.differences.join('; ')}`);
  }
  for (const phase of series.phases) {
    lines.push(`  phase ${phase.phase}`);
    const rows = [['METRIC', 'RUNS', 'LATEST', 'LEVEL (LATEST SEGMENT)', 'NOISE SD', 'A/A P95', 'SUGGESTED', 'CHANGE POINTS']];
    const body = table([...rows, ...phase.metrics.map(metricRow)]);
    lines.push(`    ${body[0]}`);
    phase.metrics.forEach((trend, row) => {
      lines.push(`    ${body[row + 1]}`);
      lines.push(...changePointLines(trend));
    });
  }
  return lines;
}

/** The trend as console text: every series, phase and metric, each change point, then the definitions in one paragraph. */
export function renderTrendText(trend: PlanTrend): string {
  if (trend.series.length === 0) {
    return `no runs of plan ${trend.plan} in the history at ${trend.where}${trend.skipped.length > 0 ? ` (${trend.skipped.length} interrupted)` : ''}`;
  }
  const runs = trend.series.reduce((sum, series) => sum + series.runs.length, 0);
  const lines = [
    `trend of plan ${trend.plan}: ${runs} run${runs === 1 ? '' : 's'} in ${trend.series.length} series, history at ${trend.where}`,
    '',
  ];
  trend.series.forEach((series, index) => lines.push(...seriesLines(series, index, trend.series.length), ''));
  for (const run of trend.skipped) lines.push(`left out: ${run.runId}: ${run.reason}`);
  if (trend.skipped.length > 0) lines.push('');
  const minimum = statisticsDefaults.changePointMinSegmentLength;
  lines.push(
    `Change points: E-divisive means proposes, Welch's t-test keeps (p < ${statisticsDefaults.changePointMaxPValue}), ` +
      `at least ${minimum} runs on each side, so none before ${2 * minimum} runs. NOISE SD: 1.4826 x median |run / segment median - 1|; ` +
      `A/A P95: 95th percentile of |a - b| / median over pairs of runs in one segment; SUGGESTED: ${statisticsDefaults.noiseThresholdFactor} x A/A P95, ` +
      'the smallest relative change this history can tell from noise. Timings of runs whose load generator was not trustworthy are left out.',
  );
  return lines.join('\n');
}
