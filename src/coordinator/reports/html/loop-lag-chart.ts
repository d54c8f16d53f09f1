/**
 * Generator health over time: the worst event-loop lag of a generator thread in each window, with
 * the plan's limit and the criteria on it. A lagging generator sends late, so its latencies
 * measure the harness, not the target.
 */
import { formatValue } from '../../../shared/units';
import { PALETTE } from './chart-palette';
import { rounded } from './chart-values';
import { criterionLines } from './criterion-lines';
import { chartId, type ChartOutcome, type PhaseChartInput } from './phase-chart-input';
import { timeChart, windowWords } from './time-chart-base';

/** The generator's event-loop lag chart of a phase. */
export function loopLagChart(input: PhaseChartInput): ChartOutcome {
  const { timeline, generator } = input.phase.metrics;
  if (timeline.points.length === 0) return { missing: 'Generator event-loop lag: no measured window.' };
  const spec = timeChart(chartId(input, 'loop-lag'), 'Generator health: event-loop lag', timeline, {
    label: 'milliseconds',
    unit: 'ms',
    min: 0,
  });
  spec.series.push({
    label: 'worst lag in window',
    color: PALETTE.brown,
    style: 'line',
    values: timeline.points.map((point) => rounded(point.loopLagMaxMs)),
  });
  spec.thresholds = criterionLines(input.phase.criteria, (metric) =>
    metric.startsWith('generator.eventLoopLag.') ? { name: metric.replace('generator.eventLoopLag.', 'lag ') } : undefined,
  );
  const limit = input.settings.maxEventLoopLagMs;
  if (limit !== null) {
    const p99 = generator.eventLoopLag?.p99;
    spec.thresholds.push({
      label: `plan limit on lag p99: ${formatValue('duration', limit)}`,
      value: limit,
      passed: p99 === undefined || p99 <= limit,
    });
  }
  const cause = generator.cause === 'machine' ? 'the machine was busy with other processes' : 'grym-perf itself was the bottleneck';
  const verdict = generator.trustworthy ? 'The generator kept up: the latencies measure the target.' : `Not trustworthy (${cause}).`;
  const caption =
    `Worst event-loop lag of a generator thread in each window (${windowWords(timeline)}); over the plan's limit, requests ` +
    `leave late. Whole phase: p99 ${formatValue('duration', generator.eventLoopLag?.p99)}. ${verdict}`;
  return { panel: { spec, caption } };
}
