/**
 * `percentiles.csv`: every whole-phase distribution of the report, one row per phase and metric,
 * named by the path a plan's criteria use (`latency.e2e`), read from the phase's merged histograms.
 */
import type { PhaseMetrics, Summary } from '../../shared/phase-metrics';
import type { RunReport } from '../../shared/run-report';
import { toCsv } from './to-csv';

const DISTRIBUTIONS: Array<{ metric: string; unit: 'ms' | 'tokens/s'; read: (metrics: PhaseMetrics) => Summary | null }> = [
  { metric: 'latency.e2e', unit: 'ms', read: (metrics) => metrics.latency.e2e },
  { metric: 'latency.response', unit: 'ms', read: (metrics) => metrics.latency.response },
  { metric: 'latency.ttft', unit: 'ms', read: (metrics) => metrics.latency.ttft },
  { metric: 'latency.tpot', unit: 'ms', read: (metrics) => metrics.latency.tpot },
  { metric: 'latency.itl', unit: 'ms', read: (metrics) => metrics.latency.itl },
  { metric: 'tokens.perRequestRate', unit: 'tokens/s', read: (metrics) => metrics.tokens.perRequestRate },
  { metric: 'switch.time', unit: 'ms', read: (metrics) => metrics.switch.time },
  { metric: 'switch.warm', unit: 'ms', read: (metrics) => metrics.switch.warm },
  { metric: 'switch.loadTime', unit: 'ms', read: (metrics) => metrics.switch.loadTime },
  { metric: 'load.schedulingLag', unit: 'ms', read: (metrics) => metrics.load.schedulingLag },
  { metric: 'memory.gcPauses', unit: 'ms', read: (metrics) => metrics.memory.gcPauses },
  { metric: 'generator.eventLoopLag', unit: 'ms', read: (metrics) => metrics.generator.eventLoopLag },
];

const STATISTICS = ['count', 'min', 'p10', 'mean', 'p50', 'p90', 'p95', 'p99', 'max'] as const;

/** Metrics a phase did not measure (no streaming, no switches) have no row. */
export function renderPercentilesCsv(report: RunReport): string {
  const rows = report.phases.flatMap((phase) =>
    DISTRIBUTIONS.flatMap(({ metric, unit, read }) => {
      const summary = read(phase.metrics);
      return summary ? [[phase.name, metric, unit, ...STATISTICS.map((statistic) => summary[statistic])]] : [];
    }),
  );
  return toCsv([['phase', 'metric', 'unit', ...STATISTICS], ...rows]);
}
