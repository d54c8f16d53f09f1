/**
 * The frame shared by a phase's charts over time: one x per window (its middle, in seconds since
 * the phase started, warm-up included), and an x range from the first window's start to the last
 * one's end, so that a single window still spans the chart.
 */
import type { PhaseTimeline, TimelinePoint } from '../../../shared/phase-timeline';
import { formatValue } from '../../../shared/units';
import type { AxisSpec, ChartSpec } from './chart-spec';
import { secondsOf } from './chart-values';

/** A chart over the phase's windows, with no series yet. */
export function timeChart(id: string, title: string, timeline: PhaseTimeline, y: AxisSpec): ChartSpec {
  const { points, windowMs } = timeline;
  const first = points[0]?.tMs ?? 0;
  const lastPoint = points.at(-1);
  const last = lastPoint ? lastPoint.tMs + lastPoint.spanMs : windowMs;
  return {
    id,
    title,
    x: points.map((point) => secondsOf(point.tMs + point.spanMs / 2)),
    xRange: [secondsOf(first), secondsOf(last)],
    xAxis: { label: 'seconds since the phase started', unit: 'seconds' },
    y,
    series: [],
    thresholds: [],
    xBands: [],
    yBands: [],
    marks: [],
    points: [],
  };
}

/** A per-window count as a rate per second. */
export function perSecond(timeline: PhaseTimeline, pick: (point: TimelinePoint) => number): Array<number | null> {
  // Over each window's own span: the last, shorter window is not drawn as a collapse.
  return timeline.points.map((point) => Math.round((pick(point) / (point.spanMs / 1000)) * 1000) / 1000);
}

/** "windows of 1.00 s" (they may have coarsened on a long phase). */
export function windowWords(timeline: PhaseTimeline): string {
  return `windows of ${formatValue('duration', timeline.windowMs)}`;
}
