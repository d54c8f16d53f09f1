/**
 * A phase's merged window series -> the points reports draw: counts, in flight (achieved against
 * requested), percentiles of each window's merged histograms, stable or not; and the phase's
 * latency distributions from its merged histograms.
 */
import { decodeHistogram, type Histogram } from '../../shared/histogram';
import type { Phase } from '../../shared/phase-schema';
import type { Distribution, Percentiles, PhaseTimeline, TimelinePoint } from '../../shared/phase-timeline';
import { stagedValueAt } from '../../shared/staged-load';
import type { WindowSeries } from '../../shared/window-series';

/** p50, p95 and p99 (ms) of an encoded window histogram; null when it is empty. */
export function percentilesOf(encoded: string): Percentiles | null {
  if (encoded === '') return null;
  const histogram = decodeHistogram(encoded);
  const at = (percentile: number) => histogram.getValueAtPercentile(percentile) / 1000;
  return { p50: at(50), p95: at(95), p99: at(99) };
}

/** What the plan asked to hold in flight at `tMs` after the phase start. */
function requestedInFlight(phase: Phase, tMs: number): number {
  if (phase.scenario === 'model-switch') return 1;
  const { stages, mode, concurrency } = phase.load;
  return stages && mode === 'closed' ? Math.round(stagedValueAt(stages, 'concurrency', tMs)) : concurrency;
}

/**
 * One point per window from the first to the last with activity, empty windows included (a stall
 * is a point at zero). `isStable(index)` tells the stability verdict of a window, null for the
 * windows stability leaves out.
 */
export function phaseTimeline(
  series: WindowSeries,
  phase: Phase,
  isStable: (index: number) => boolean | null,
  lastEndEpochMs: number | null,
): PhaseTimeline {
  const { windowMs } = series;
  // The last window runs only until the phase's last request ended: its rates use that span.
  const endMs = lastEndEpochMs !== null && series.originEpochMs > 0 ? lastEndEpochMs - series.originEpochMs : Infinity;
  const byIndex = new Map(series.windows.map((window) => [window.index, window]));
  const last = series.windows.at(-1)?.index ?? -1;
  const points: TimelinePoint[] = [];
  for (let index = 0; index <= last; index++) {
    const window = byIndex.get(index);
    const tMs = phase.load.warmupMs + index * windowMs;
    const spanMs = Math.max(1, Math.min(windowMs, endMs - index * windowMs));
    points.push({
      tMs,
      spanMs,
      ok: window?.ok ?? 0,
      errors: window?.errors ?? 0,
      errorsByClass: window?.errorsByClass ?? {},
      inFlight: (window?.inFlightMs ?? 0) / spanMs,
      requestedInFlight: requestedInFlight(phase, tMs + windowMs / 2),
      scheduled: window?.scheduled ?? 0,
      outputTokens: window?.outputTokens ?? 0,
      loopLagMaxMs: window?.loopLagMaxMs ?? 0,
      e2e: percentilesOf(window?.histograms.e2eUs ?? ''),
      ttft: percentilesOf(window?.histograms.ttftUs ?? ''),
      itl: percentilesOf(window?.histograms.itlUs ?? ''),
      stable: isStable(index),
    });
  }
  return { windowMs, points };
}

/**
 * A histogram's distribution as [percentile, ms] pairs, as HdrHistogram plots it: steps that halve
 * the distance to 100 % (four per halving), so the tail is drawn as finely as the body.
 */
export function distributionOf(histogram: Histogram): Distribution {
  if (histogram.totalCount === 0) return [];
  const points: Distribution = [];
  for (let step = 0; step <= 60; step++) {
    const percentile = 100 * (1 - 2 ** (-step / 4));
    points.push([percentile, histogram.getValueAtPercentile(percentile) / 1000]);
    if (histogram.totalCount * (1 - percentile / 100) < 1) break;
  }
  points.push([100, histogram.maxValue / 1000]);
  return points;
}
