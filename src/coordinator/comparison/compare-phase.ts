/**
 * One phase of two runs compared, metric by metric: latencies on their decoded whole-phase
 * histograms, throughput on the rates of its full windows, ratios on their counts.
 */
import { COMPARISON_MIN_SAMPLES, COMPARISON_MIN_TAIL_VALUES, COMPARISON_MIN_WINDOWS } from '../../shared/defaults';
import { createHistogram, decodeHistogram, type Histogram } from '../../shared/histogram';
import { METRICS } from '../../shared/phase-metrics';
import {
  REGRESSION_METRIC_IDS,
  REGRESSION_METRICS,
  type RegressionMetric,
  type RegressionMetricDefinition,
  type RegressionThreshold,
} from '../../shared/regression-schema';
import type { PhaseReport } from '../../shared/run-report';
import type { HistogramName } from '../../shared/shard-result';
import type { ProportionCounts } from '../statistics';
import type { HistoryPhase } from '../history/history-entry';
import { judgePercentile, type Judgement } from './judge-percentile';
import { judgeProportion } from './judge-proportion';
import type { MetricComparison } from './metric-comparison';
import type { PracticalThreshold } from './practical-threshold';
import { isTimingMetric, untrustedTimings } from './timing-trust';

export interface PhaseSide {
  report: PhaseReport;
  /** Null when only the report is known (a report.json file): latencies are then not tested. */
  distributions: HistoryPhase | null;
}

export interface PhaseComparison {
  phase: string;
  metrics: MetricComparison[];
}

const LATENCY_HISTOGRAMS: Record<string, HistogramName> = {
  'latency.e2e': 'e2eUs',
  'latency.ttft': 'ttftUs',
  'latency.itl': 'itlUs',
  'switch.time': 'switchUs',
};

const PROPORTIONS: Partial<Record<RegressionMetric, { counts: (phase: PhaseReport) => ProportionCounts; words: string }>> = {
  'requests.errorRate': { counts: ({ metrics }) => ({ count: metrics.requests.errors, total: metrics.requests.total }), words: 'requests' },
  'context.preservation': {
    counts: ({ metrics }) => ({ count: metrics.context.recalled, total: metrics.context.probes }),
    words: 'context probes',
  },
  stability: { counts: ({ metrics }) => ({ count: metrics.stability.stableWindows, total: metrics.stability.windows }), words: 'windows' },
};

/** Fewest values for a percentile: COMPARISON_MIN_SAMPLES, and COMPARISON_MIN_TAIL_VALUES beyond it (p99: 100). */
function minimumCountFor(percentile: number): number {
  const forTail = Math.ceil((COMPARISON_MIN_TAIL_VALUES * 100) / (100 - percentile) - 1e-9);
  return Math.max(COMPARISON_MIN_SAMPLES, forTail);
}

/**
 * Per-window completion rates of the full windows, in thousandths per second. Left out: the last,
 * shorter window, and the windows before the first request ended: no request had had the time to
 * (with 500 ms replies, the first two 250 ms windows of every run), so their zero is the pipeline
 * filling, not a throughput; kept, they drew bootstrap medians of 0 and made an A/A pair inconclusive.
 */
function windowRates(phase: PhaseReport): Histogram {
  const histogram = createHistogram();
  const { windowMs, points } = phase.metrics.timeline;
  const first = points.findIndex((point) => point.ok + point.errors > 0);
  for (const point of first < 0 ? [] : points.slice(first)) {
    if (point.spanMs < windowMs) continue;
    histogram.recordValue(Math.round((point.ok / (point.spanMs / 1000)) * 1000));
  }
  return histogram;
}

function inconclusive(reason: string, method = 'none'): Judgement {
  return { interval: null, verdict: 'inconclusive', reason, method, samples: null };
}

function judge(
  metric: RegressionMetric,
  definition: RegressionMetricDefinition,
  threshold: Exclude<RegressionThreshold, { kind: 'off' }>,
  base: PhaseSide,
  next: PhaseSide,
): Judgement {
  const proportion = PROPORTIONS[metric];
  if (proportion) {
    return judgeProportion(
      proportion.counts(base.report),
      proportion.counts(next.report),
      threshold,
      definition.worse,
      COMPARISON_MIN_SAMPLES,
      proportion.words,
    );
  }
  if (metric === 'throughput.rps') {
    return judgePercentile({
      base: windowRates(base.report),
      new: windowRates(next.report),
      percentile: 50,
      threshold,
      worse: definition.worse,
      minCount: COMPARISON_MIN_WINDOWS,
      unitWords: 'full windows',
      perMs: 1,
    });
  }
  const stat = metric.slice(metric.lastIndexOf('.') + 1);
  const histogramName = LATENCY_HISTOGRAMS[metric.slice(0, metric.lastIndexOf('.'))];
  if (!histogramName) return inconclusive(`no test for ${metric}`);
  if (!base.distributions || !next.distributions) {
    return inconclusive('no histograms (a report file): values from the summaries, not tested');
  }
  const percentile = Number(stat.slice(1));
  return judgePercentile({
    base: decodeHistogram(base.distributions.histograms[histogramName]),
    new: decodeHistogram(next.distributions.histograms[histogramName]),
    percentile,
    threshold,
    worse: definition.worse,
    minCount: minimumCountFor(percentile),
    unitWords: histogramName === 'itlUs' ? 'token gaps' : histogramName === 'switchUs' ? 'switches' : 'requests',
    perMs: 1000,
  });
}

/**
 * Every judged metric of the phase, in REGRESSION_METRICS order, each with its threshold (see
 * practical-threshold.ts). A metric neither run measured
 * (no streaming, no switches, no probes) is left out; one measured by only one run is inconclusive,
 * and so are the timings of a run whose load generator was not trustworthy (timing-trust.ts).
 */
export function comparePhase(base: PhaseSide, next: PhaseSide, thresholds: Record<RegressionMetric, PracticalThreshold>): PhaseComparison {
  const metrics: MetricComparison[] = [];
  const untrusted = untrustedTimings(base.report, next.report);
  for (const metric of REGRESSION_METRIC_IDS) {
    const { threshold, source: thresholdSource, note: thresholdNote } = thresholds[metric];
    if (threshold.kind === 'off') continue;
    const definition: RegressionMetricDefinition = REGRESSION_METRICS[metric];
    const read = METRICS[metric]!.read;
    const baseValue = read(base.report.metrics);
    const newValue = read(next.report.metrics);
    if (baseValue === null && newValue === null) continue;
    const judgement =
      baseValue === null || newValue === null
        ? inconclusive(`measured in ${baseValue === null ? 'NEW' : 'BASE'} only`)
        : untrusted !== null && isTimingMetric(metric)
          ? inconclusive(untrusted.reason)
          : judge(metric, definition, threshold, base, next);
    metrics.push({
      metric,
      description: definition.description,
      scale: definition.scale,
      base: baseValue,
      new: newValue,
      difference: baseValue === null || newValue === null ? null : newValue - baseValue,
      relativeChange: baseValue === null || newValue === null || baseValue === 0 ? null : newValue / baseValue - 1,
      threshold,
      thresholdSource,
      thresholdNote,
      ...judgement,
    });
  }
  return { phase: next.report.name, metrics };
}
