import type { Phase } from '../../shared/phase-schema';
import type { PhaseMetrics } from '../../shared/phase-metrics';
import type { WindowRecord, WindowSeries } from '../../shared/window-series';

export interface StabilityVerdict {
  stability: PhaseMetrics['stability'];
  /** Whether a window counts as stable; null for windows outside the judged span (partial or after the measured time). */
  isStable(index: number): boolean | null;
}

type Counts = Pick<WindowRecord, 'ok' | 'errors' | 'inFlightMs'>;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] as number;

/**
 * Stability: the share of measurement windows in which the target completed requests, kept its
 * failure share at or under `maxErrorRate`, and completed at least `minThroughputRatio` of the
 * median window's requests. Windows run from the first to the last one with completions (empty
 * windows in between count, as stalls).
 *
 * Partial windows are judged for what they are, so that a perfect server reads 100 %:
 * - the end: with a measured duration, windows after it (requests still finishing) are left out and
 *   the window it ends in is held to its share of the time; a phase that ran out of requests before
 *   its duration ends at its last request (`lastEndEpochMs`), judged the same way; without a
 *   duration (a request count alone), the last window is left out when there are 3+;
 * - the start: the first window is held to its share of the median window's requests in flight,
 *   since requests that started in the warm-up are not measured and the first measured ones are
 *   still under way (a stall, with requests in flight and none completing, still fails it).
 */
export function computeStability(series: WindowSeries, phase: Phase, lastEndEpochMs: number | null = null): StabilityVerdict {
  const { maxErrorRate, minThroughputRatio } = phase.stability;
  const windowMs = series.windowMs || phase.stability.windowMs;
  const active = series.windows.filter((window) => window.ok + window.errors > 0);
  if (active.length === 0) return { stability: { value: null, windows: 0, stableWindows: 0, windowMs }, isStable: () => null };
  const first = (active[0] as { index: number }).index;
  let last = (active.at(-1) as { index: number }).index;
  const { durationMs, cooldownMs } = phase.load;
  // Requests that ran out before the duration end the measured span at the last one.
  const endedMs = lastEndEpochMs !== null && series.originEpochMs > 0 ? lastEndEpochMs - series.originEpochMs : Infinity;
  const measuredMs = durationMs === undefined ? undefined : Math.min(durationMs - cooldownMs, endedMs);
  /** Share of a window's time inside the measured span (1 without a measured duration). */
  let coverage = (_index: number) => 1;
  if (measuredMs !== undefined && measuredMs > 0) {
    last = Math.min(last, Math.max(first, Math.ceil(measuredMs / windowMs) - 1));
    coverage = (index) => Math.min(1, Math.max(0, (measuredMs - index * windowMs) / windowMs));
  } else if (last - first + 1 >= 3) last--;
  const byIndex = new Map(series.windows.map((window) => [window.index, window]));
  const counts: Counts[] = Array.from(
    { length: last - first + 1 },
    (_, offset) => byIndex.get(first + offset) ?? { ok: 0, errors: 0, inFlightMs: 0 },
  );
  // Whole windows set the bar: partial ones would lower it.
  const whole = counts.filter((_, offset) => coverage(first + offset) === 1 && offset > 0);
  const reference = whole.length > 0 ? whole : counts;
  const medianOk = median(reference.map((count) => count.ok));
  const medianInFlightMs = median(reference.map((count) => count.inFlightMs));
  const verdicts = counts.map((count, offset) => {
    const total = count.ok + count.errors;
    let share = coverage(first + offset);
    if (offset === 0 && medianInFlightMs > 0) share = Math.min(share, count.inFlightMs / medianInFlightMs);
    return total > 0 && count.errors / total <= maxErrorRate && count.ok >= minThroughputRatio * medianOk * Math.min(1, share);
  });
  const stable = verdicts.filter(Boolean).length;
  return {
    stability: { value: stable / counts.length, windows: counts.length, stableWindows: stable, windowMs },
    isStable: (index) => (index >= first && index <= last ? (verdicts[index - first] as boolean) : null),
  };
}
