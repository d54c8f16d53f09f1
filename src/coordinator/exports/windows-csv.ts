/**
 * `windows.csv`: every phase's time series, one row per window, as report.html draws it. Rates are
 * per second of the window's real span (the last window is shorter); percentiles come from the
 * window's merged histograms; each error class has its own column, the same columns in every row.
 */
import type { TimelinePoint } from '../../shared/phase-timeline';
import type { RunReport } from '../../shared/run-report';
import { toCsv } from './to-csv';

const PERCENTILE_COLUMNS = (['e2e', 'ttft', 'itl'] as const).flatMap((metric) =>
  (['p50', 'p95', 'p99'] as const).map((percentile) => ({
    header: `${metric}_${percentile}_ms`,
    read: (point: TimelinePoint) => point[metric]?.[percentile] ?? null,
  })),
);

const perSecond = (value: number, spanMs: number) => (spanMs > 0 ? (value * 1000) / spanMs : null);

export function renderWindowsCsv(report: RunReport): string {
  const errorClasses = [
    ...new Set(report.phases.flatMap((phase) => phase.metrics.timeline.points.flatMap((point) => Object.keys(point.errorsByClass)))),
  ].sort();
  const header = [
    'phase',
    'window_start_ms',
    'span_ms',
    'ok',
    'errors',
    'requests_per_s',
    'output_tokens',
    'output_tokens_per_s',
    'in_flight',
    'requested_in_flight',
    'scheduled',
    'loop_lag_max_ms',
    ...PERCENTILE_COLUMNS.map((column) => column.header),
    'stable',
    ...errorClasses.map((errorClass) => `errors_${errorClass}`),
  ];
  const rows = report.phases.flatMap((phase) =>
    phase.metrics.timeline.points.map((point) => [
      phase.name,
      point.tMs,
      point.spanMs,
      point.ok,
      point.errors,
      perSecond(point.ok + point.errors, point.spanMs),
      point.outputTokens,
      perSecond(point.outputTokens, point.spanMs),
      point.inFlight,
      point.requestedInFlight,
      point.scheduled,
      point.loopLagMaxMs,
      ...PERCENTILE_COLUMNS.map((column) => column.read(point)),
      point.stable,
      ...errorClasses.map((errorClass) => point.errorsByClass[errorClass] ?? 0),
    ]),
  );
  return toCsv([header, ...rows]);
}
