/**
 * Every chart of a phase, in reading order (two a row on a wide screen): load and errors first,
 * then latency over time, requests in flight beside the distributions, the scenario's own charts
 * (context, model switches), memory, and the generator's health. Charts with nothing to draw
 * become one sentence each saying why.
 */
import type { PhaseReport } from '../../../shared/run-report';
import type { ChartPanel } from './chart-spec';
import { contextChart } from './context-chart';
import { distributionChart } from './distribution-chart';
import { inFlightChart } from './in-flight-chart';
import { latencyTimeChart } from './latency-time-chart';
import { loopLagChart } from './loop-lag-chart';
import { memoryChart } from './memory-chart';
import type { ChartOutcome, PhaseChartInput } from './phase-chart-input';
import type { PhaseSettings } from './phase-settings';
import { switchChart } from './switch-chart';
import { throughputChart } from './throughput-chart';

const NO_SERIES =
  'Charts over time (throughput, latency, in flight, event-loop lag): this report holds no per-window series ' +
  '(written by a grym-perf that did not record them).';
/** How the notes of charts over time begin: left out when NO_SERIES says it for all of them. */
const TIME_CHARTS = [
  'Throughput over time',
  'End-to-end latency over time',
  'Time to first token over time',
  'Inter-token latency over time',
  'Requests in flight',
  'Generator event-loop lag',
];

export interface PhaseCharts {
  panels: ChartPanel[];
  /** Why the charts not drawn are missing. */
  notDrawn: string[];
}

/** The charts of the phase at `index` of the run. */
export function phaseCharts(phase: PhaseReport, index: number, settings: PhaseSettings): PhaseCharts {
  const input: PhaseChartInput = { phase, index, settings };
  const { context, switch: switches } = phase.metrics;
  const outcomes: ChartOutcome[] = [
    throughputChart(input),
    latencyTimeChart(input, 'e2e'),
    latencyTimeChart(input, 'ttft'),
    latencyTimeChart(input, 'itl'),
    inFlightChart(input),
    distributionChart(input),
  ];
  // Context and switch charts belong to phases that probe facts or switch models: elsewhere their absence says nothing.
  if (context.probes + context.crossSwitchProbes > 0) outcomes.push(contextChart(input));
  if (phase.scenario === 'model-switch' || switches.sequence.length > 0) outcomes.push(switchChart(input));
  outcomes.push(memoryChart(input, 'harness'), memoryChart(input, 'target'), loopLagChart(input));
  const panels: ChartPanel[] = [];
  const notDrawn: string[] = [];
  // Requests but no window: the report predates windowed series; one sentence says so, not one per chart.
  const noSeries = phase.metrics.timeline.points.length === 0 && phase.metrics.requests.total > 0;
  if (noSeries) notDrawn.push(NO_SERIES);
  for (const outcome of outcomes) {
    if ('panel' in outcome) panels.push(outcome.panel);
    else if (!noSeries || !TIME_CHARTS.some((title) => outcome.missing.startsWith(title))) notDrawn.push(outcome.missing);
  }
  return { panels, notDrawn };
}
