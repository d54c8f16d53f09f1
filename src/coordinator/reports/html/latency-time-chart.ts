/**
 * A latency (e2e, TTFT or ITL) over time: p50, p95 and p99 of the requests that ended in each
 * window, read from the window's merged histograms (exact across shards, never averaged), with the
 * criteria on that latency as lines.
 */
import type { Percentiles, TimelinePoint } from '../../../shared/phase-timeline';
import { PERCENTILE_COLORS } from './chart-palette';
import { hasValues, rounded } from './chart-values';
import { criterionLines } from './criterion-lines';
import { chartId, type ChartOutcome, type PhaseChartInput } from './phase-chart-input';
import { timeChart, windowWords } from './time-chart-base';

export type TimedLatency = 'e2e' | 'ttft' | 'itl';

const WORDS: Record<TimedLatency, { title: string; what: string; missing: string }> = {
  e2e: { title: 'End-to-end latency', what: 'Request sent to last byte', missing: 'no request completed' },
  ttft: {
    title: 'Time to first token',
    what: 'Request sent to the first chunk with content',
    missing: 'no first token was timed (the target did not stream)',
  },
  itl: { title: 'Inter-token latency', what: 'Gaps between consecutive content chunks', missing: 'no gap was timed (no streamed reply)' },
};

/** Percentile stats a criterion on this latency may name; only these are lines on the chart. */
const DRAWN_STATS = ['p50', 'p90', 'p95', 'p99', 'max', 'mean'];

/** The chart of one latency over time. */
export function latencyTimeChart(input: PhaseChartInput, latency: TimedLatency): ChartOutcome {
  const { timeline } = input.phase.metrics;
  const words = WORDS[latency];
  const pick = (point: TimelinePoint): Percentiles | null => point[latency];
  const spec = timeChart(chartId(input, `${latency}-over-time`), `${words.title} over time`, timeline, {
    label: 'milliseconds',
    unit: 'ms',
    min: 0,
  });
  for (const stat of ['p50', 'p95', 'p99'] as const) {
    const values = timeline.points.map((point) => {
      const percentiles = pick(point);
      return percentiles ? rounded(percentiles[stat]) : null;
    });
    spec.series.push({ label: stat, color: PERCENTILE_COLORS[stat], style: 'line', values });
  }
  if (!spec.series.some((series) => hasValues(series.values))) return { missing: `${words.title} over time: ${words.missing}.` };
  const prefix = `latency.${latency}.`;
  spec.thresholds = criterionLines(input.phase.criteria, (metric) => {
    const stat = metric.slice(prefix.length);
    return metric.startsWith(prefix) && DRAWN_STATS.includes(stat) ? { name: `${latency} ${stat}` } : undefined;
  });
  const lines = spec.thresholds.length > 0 ? ' Dashed lines: criteria on this latency (judged on the whole phase), red when failed.' : '';
  const caption =
    `${words.what}: p50, p95 and p99 of the requests that ended in each window (${windowWords(timeline)}), read from the ` +
    `merged histograms of all shards. A gap is a window in which none ended.${lines}`;
  return { panel: { spec, caption } };
}
