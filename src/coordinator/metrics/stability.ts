import type { Phase } from '../../shared/phase-schema';
import type { PhaseMetrics } from '../../shared/phase-metrics';
import type { WindowSeries } from '../../shared/window-series';

export interface StabilityVerdict {
  stability: PhaseMetrics['stability'];
  /** Whether a window counts as stable; null for windows outside the judged span (the last, partial one). */
  isStable(index: number): boolean | null;
}

/**
 * Stability: the share of measurement windows in which the target completed requests, kept its
 * failure share at or under `maxErrorRate`, and completed at least `minThroughputRatio` of the
 * median window's requests. Windows run from the first to the last one with completions (empty
 * windows in between count, as stalls); the last, partial window is left out when there are 3+.
 */
export function computeStability(series: WindowSeries, phase: Phase): StabilityVerdict {
  const { maxErrorRate, minThroughputRatio } = phase.stability;
  const windowMs = series.windowMs || phase.stability.windowMs;
  const active = series.windows.filter((window) => window.ok + window.errors > 0);
  if (active.length === 0) return { stability: { value: null, windows: 0, stableWindows: 0, windowMs }, isStable: () => null };
  const first = (active[0] as { index: number }).index;
  let last = (active.at(-1) as { index: number }).index;
  if (last - first + 1 >= 3) last--;
  const byIndex = new Map(series.windows.map((window) => [window.index, window]));
  const counts = Array.from({ length: last - first + 1 }, (_, offset) => byIndex.get(first + offset) ?? { ok: 0, errors: 0 });
  const sortedOk = counts.map((count) => count.ok).sort((a, b) => a - b);
  const medianOk = sortedOk[Math.floor((sortedOk.length - 1) / 2)] as number;
  const verdicts = counts.map((count) => {
    const total = count.ok + count.errors;
    return total > 0 && count.errors / total <= maxErrorRate && count.ok >= minThroughputRatio * medianOk;
  });
  const stable = verdicts.filter(Boolean).length;
  return {
    stability: { value: stable / counts.length, windows: counts.length, stableWindows: stable, windowMs },
    isStable: (index) => (index >= first && index <= last ? (verdicts[index - first] as boolean) : null),
  };
}
