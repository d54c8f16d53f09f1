/**
 * Throughput and errors over time: completions and failures (by class) per second window by
 * window, open-loop arrivals against them; stable windows shaded
 * green and unstable ones red; the throughput criteria as lines, stability and error-rate
 * criteria in the caption.
 */
import type { PhaseTimeline } from '../../../shared/phase-timeline';
import { formatValue } from '../../../shared/units';
import type { SeriesSpec, XBandSpec } from './chart-spec';
import { BAND, ERROR_COLORS, PALETTE } from './chart-palette';
import { secondsOf } from './chart-values';
import { criterionLines, criterionNote } from './criterion-lines';
import { chartId, type ChartOutcome, type PhaseChartInput } from './phase-chart-input';
import { perSecond, timeChart, windowWords } from './time-chart-base';

/** Criteria this chart shows without a line: its bands are stability, its red lines the errors. */
const NOTED = ['stability', 'requests.errorRate', 'requests.errors'];

/** Error classes drawn one by one; the rarer ones are summed as "other". */
const DRAWN_CLASSES = ERROR_COLORS.length - 1;

function errorSeries(timeline: PhaseTimeline): SeriesSpec[] {
  const totals = new Map<string, number>();
  for (const point of timeline.points) {
    for (const [name, count] of Object.entries(point.errorsByClass)) totals.set(name, (totals.get(name) ?? 0) + count);
  }
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
  const drawn = ranked.length > DRAWN_CLASSES + 1 ? ranked.slice(0, DRAWN_CLASSES) : ranked;
  const series = drawn.map((name, index) => ({
    label: `failed: ${name} /s`,
    color: ERROR_COLORS[index] as string,
    style: 'line' as const,
    values: perSecond(timeline, (point) => point.errorsByClass[name] ?? 0),
  }));
  if (drawn.length < ranked.length) {
    const other = (byClass: Record<string, number>) =>
      Object.entries(byClass).reduce((sum, [name, count]) => sum + (drawn.includes(name) ? 0 : count), 0);
    series.push({
      label: 'failed: other classes /s',
      color: ERROR_COLORS[DRAWN_CLASSES] as string,
      style: 'line',
      values: perSecond(timeline, (point) => other(point.errorsByClass)),
    });
  }
  return series;
}

/** One band per run of neighbouring windows judged alike (a long steady phase is one band, not hundreds). */
function stabilityBands(timeline: PhaseTimeline): XBandSpec[] {
  const bands: XBandSpec[] = [];
  for (const point of timeline.points) {
    if (point.stable === null) continue;
    const color = point.stable ? BAND.stable : BAND.unstable;
    const [from, to] = [secondsOf(point.tMs), secondsOf(point.tMs + point.spanMs)];
    const last = bands.at(-1);
    if (last && last.color === color && last.to === from) last.to = to;
    else bands.push({ from, to, color });
  }
  return bands;
}

function caption(input: PhaseChartInput): string {
  const { metrics, criteria } = input.phase;
  const { stability, timeline, load } = metrics;
  const parts = [`Completed and failed requests per second, ${windowWords(timeline)}.`];
  if (load.mode === 'open') parts.push('Dashed: arrivals scheduled per second; completions below it mean the target fell behind.');
  parts.push(
    `Shaded: stable windows green, unstable red (stability ${formatValue('ratio', stability.value)}: ` +
      `${stability.stableWindows} of ${stability.windows} windows; the last, partial window is not judged).`,
  );
  const notes = criteria.filter((criterion) => NOTED.includes(criterion.metric));
  if (notes.length > 0) parts.push(`Criteria: ${notes.map(criterionNote).join('; ')}.`);
  return parts.join(' ');
}

/** The throughput chart of a phase, with its stability bands. */
export function throughputChart(input: PhaseChartInput): ChartOutcome {
  const { timeline, load } = input.phase.metrics;
  if (timeline.points.length === 0) return { missing: 'Throughput over time: no measured window (no request completed).' };
  const spec = timeChart(chartId(input, 'throughput'), 'Throughput and errors', timeline, {
    label: 'requests per second',
    unit: 'perSecond',
    min: 0,
  });
  spec.series.push({ label: 'completed /s', color: PALETTE.blue, style: 'line', values: perSecond(timeline, (point) => point.ok) });
  if (load.mode === 'open') {
    spec.series.push({ label: 'scheduled /s', color: PALETTE.grey, style: 'dashed', values: perSecond(timeline, (p) => p.scheduled) });
  }
  // Output tokens are left out: with replies of similar length their curve is the completions' curve, rescaled.
  spec.series.push(...errorSeries(timeline));
  spec.xBands = stabilityBands(timeline);
  spec.thresholds = criterionLines(input.phase.criteria, (metric) => {
    if (metric === 'throughput.rps') return { name: 'throughput' };
    if (metric === 'throughput.goodput') return { name: 'goodput' };
    return undefined;
  });
  const notedMetrics = input.phase.criteria.map((criterion) => criterion.metric).filter((metric) => NOTED.includes(metric));
  return { panel: { spec, caption: caption(input), notedMetrics } };
}
