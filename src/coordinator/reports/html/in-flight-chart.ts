/**
 * Requests in flight over time: what the plan asked for (conversations in a closed loop, the cap
 * in an open one) as a staircase, against what was achieved (the mean in flight over each window),
 * with the concurrency criteria as lines.
 */
import { PALETTE } from './chart-palette';
import { rounded } from './chart-values';
import { criterionLines } from './criterion-lines';
import { chartId, type ChartOutcome, type PhaseChartInput } from './phase-chart-input';
import { timeChart, windowWords } from './time-chart-base';

/** The in-flight chart of a phase. */
export function inFlightChart(input: PhaseChartInput): ChartOutcome {
  const { timeline, load } = input.phase.metrics;
  if (timeline.points.length === 0) return { missing: 'Requests in flight: no measured window.' };
  const spec = timeChart(chartId(input, 'in-flight'), 'Requests in flight: requested and achieved', timeline, {
    label: 'requests in flight',
    unit: 'count',
    min: 0,
  });
  spec.series.push(
    {
      label: load.mode === 'open' ? 'cap (requested)' : 'requested',
      color: PALETTE.grey,
      style: 'step',
      values: timeline.points.map((point) => point.requestedInFlight),
    },
    {
      label: 'achieved (mean)',
      color: PALETTE.blue,
      style: 'line',
      fill: 'rgba(31, 119, 180, 0.12)',
      values: timeline.points.map((point) => rounded(point.inFlight, 2)),
    },
  );
  spec.thresholds = criterionLines(input.phase.criteria, (metric) =>
    metric === 'concurrency.mean' || metric === 'concurrency.peak' ? { name: metric.replace('concurrency.', 'in flight ') } : undefined,
  );
  const asked =
    load.mode === 'open'
      ? 'Open loop: the step is the cap on requests in flight; achieved at the cap means the target was saturated and arrivals queued.'
      : 'Closed loop: the step is the conversations the plan asked for (stages ramp it); achieved below it means time between turns.';
  return {
    panel: { spec, caption: `${asked} Achieved: mean requests in flight over each window (${windowWords(timeline)}), all shards.` },
  };
}
