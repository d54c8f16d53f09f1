/**
 * One metric over runs as a chart spec of report.html's kind (drawn by the same `drawCharts`): the
 * value of each run, the level of each segment dashed, a red mark at each change point, and the
 * noise envelope around the current level shaded.
 */
import { BAND, PALETTE } from '../reports/html/chart-palette';
import type { ChartSpec, ValueUnit } from '../reports/html/chart-spec';
import { rounded } from '../reports/html/chart-values';
import type { MetricTrend } from './metric-trend';
import { formatSignedPercent } from './trend-format';

/** About this many run labels on the x axis, whatever the history's length. */
const X_LABELS = 20;

const UNITS: Record<MetricTrend['scale'], { unit: ValueUnit; label: string; factor: number }> = {
  duration: { unit: 'ms', label: 'milliseconds', factor: 1 },
  rate: { unit: 'perSecond', label: 'per second', factor: 1 },
  // Ratios as percentages, which the chart's axis formats.
  ratio: { unit: 'percent', label: 'percent', factor: 100 },
};

/** The chart of `trend` (x: run number, oldest first, from 1), or undefined when no run has a value. */
export function trendChart(id: string, trend: MetricTrend): ChartSpec | undefined {
  if (!trend.points.some((point) => point.value !== null)) return undefined;
  const { unit, label, factor } = UNITS[trend.scale];
  const scaled = (value: number) => rounded(value * factor, 4);
  const x = trend.points.map((_, position) => position + 1);
  // The level of the segment each run belongs to: segments hold the runs between change points.
  const starts = trend.changePoints.map((point) => point.position);
  const levels = trend.points.map((point, position) => {
    if (point.value === null) return null;
    const segment = starts.filter((start) => start <= position).length;
    const level = trend.segments[segment]?.level;
    return level === undefined ? null : scaled(level);
  });
  const current = trend.segments.at(-1);
  const step = Math.max(1, Math.ceil(x.length / X_LABELS));
  return {
    id,
    title: `${trend.metric}: ${trend.description}`,
    x,
    xRange: [1, Math.max(2, x.length)],
    xAxis: { label: 'run, oldest first', unit: 'ticks', ticks: x.filter((run) => (run - 1) % step === 0).map((run) => [run, `#${run}`]) },
    y: { label, unit },
    series: [
      {
        label: 'run',
        color: PALETTE.blue,
        style: 'line',
        values: trend.points.map((point) => (point.value === null ? null : scaled(point.value))),
        spanGaps: true,
      },
      { label: 'segment level', color: PALETTE.orange, style: 'dashed', values: levels, spanGaps: true },
    ],
    thresholds: [],
    xBands: [],
    yBands:
      current && trend.envelope
        ? [
            {
              from: scaled(current.level * (1 - trend.envelope.relativeSpread)),
              to: scaled(current.level * (1 + trend.envelope.relativeSpread)),
              color: BAND.warm,
              label: 'noise envelope',
            },
          ]
        : [],
    marks: trend.changePoints.map((point) => ({
      x: point.position + 1,
      label: `change ${formatSignedPercent(point.relativeChange)}`,
      color: PALETTE.red,
    })),
    points: [],
  };
}
