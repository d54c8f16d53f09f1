/**
 * The latest window every part of a running phase has closed, as live views show it: its
 * throughput, failures and latency percentiles (from the merged window histograms, so exact
 * across shards and workers).
 */
import type { Percentiles } from '../../shared/phase-timeline';
import { mergeRecent, type RecentWindows } from '../../shared/window-series';
import { percentilesOf } from './phase-timeline';

export interface LiveWindow {
  /** Window number since the start of the measured part, and its length. */
  index: number;
  windowMs: number;
  ok: number;
  errors: number;
  requestsPerSecond: number;
  e2e: Percentiles | null;
  ttft: Percentiles | null;
}

/** The latest closed window of merged recent windows (a quiet window shows as zeros), or null before the first. */
export function liveWindow(recent: RecentWindows | null | undefined): LiveWindow | null {
  if (!recent || recent.closedThrough < 0) return null;
  const window = recent.windows.find((candidate) => candidate.index === recent.closedThrough);
  return {
    index: recent.closedThrough,
    windowMs: recent.windowMs,
    ok: window?.ok ?? 0,
    errors: window?.errors ?? 0,
    requestsPerSecond: (window?.ok ?? 0) / (recent.windowMs / 1000),
    e2e: percentilesOf(window?.histograms.e2eUs ?? ''),
    ttft: percentilesOf(window?.histograms.ttftUs ?? ''),
  };
}

/** The live window of shards' progress (each possibly without windows yet: then none). */
export function liveWindowOf(parts: ReadonlyArray<{ recent?: RecentWindows | undefined }>): LiveWindow | null {
  const recents = parts.flatMap((part) => (part.recent ? [part.recent] : []));
  return recents.length === parts.length ? liveWindow(mergeRecent(recents)) : null;
}
