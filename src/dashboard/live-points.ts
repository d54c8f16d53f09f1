/**
 * The windows of a running phase that a live page can draw: the shards' latest closed windows
 * merged (`mergeRecent`: only windows every shard has closed, histograms added, so percentiles are
 * exact across shards and workers), one point per window, quiet windows as zeros.
 *
 * A shard reports only its latest few windows with requests in them, so a window missing from its
 * report is known to be quiet only from its earliest reported window on; before that it may just
 * have scrolled out. Points start where every shard's report is complete, so a stall reads as
 * zeros and a scrolled-out window is never drawn as one.
 */
import type { Percentiles } from '../shared/phase-timeline';
import { mergeRecent, type RecentWindows, type WindowRecord } from '../shared/window-series';
import { percentilesOf } from '../coordinator/metrics/phase-timeline';

/** One closed window of the running phase, all shards together. */
export interface LivePoint {
  /** Window start, milliseconds after the start of the phase's measured part (common to all shards). */
  tMs: number;
  windowMs: number;
  ok: number;
  errors: number;
  requestsPerSecond: number;
  errorsPerSecond: number;
  /** Percentiles in milliseconds of the requests that ended in the window; null when none did. */
  e2e: Percentiles | null;
  ttft: Percentiles | null;
}

/** The first window index, in windows of `windowMs`, from which `part`'s report holds every window it had requests in. */
function completeFrom(part: RecentWindows, windowMs: number): number {
  const first = part.windows[0];
  // A shard that reports no window has had no request in any window it closed: complete from the start.
  if (!first) return 0;
  // A merged window that starts before the part's first reported one may miss some of its requests.
  return Math.ceil((first.index * part.windowMs) / windowMs);
}

function pointOf(index: number, windowMs: number, window: WindowRecord | undefined): LivePoint {
  const ok = window?.ok ?? 0;
  const errors = window?.errors ?? 0;
  return {
    tMs: index * windowMs,
    windowMs,
    ok,
    errors,
    requestsPerSecond: ok / (windowMs / 1000),
    errorsPerSecond: errors / (windowMs / 1000),
    e2e: percentilesOf(window?.histograms.e2eUs ?? ''),
    ttft: percentilesOf(window?.histograms.ttftUs ?? ''),
  };
}

/**
 * The drawable windows of shards running side by side, oldest first: none until every shard has
 * reported windows (a missing shard would leave them half counted).
 */
export function livePoints(shards: ReadonlyArray<{ recent?: RecentWindows | undefined }>): LivePoint[] {
  const parts = shards.flatMap((shard) => (shard.recent ? [shard.recent] : []));
  if (parts.length === 0 || parts.length !== shards.length) return [];
  const merged = mergeRecent(parts);
  if (!merged || merged.closedThrough < 0) return [];
  const from = Math.max(0, ...parts.map((part) => completeFrom(part, merged.windowMs)));
  const byIndex = new Map(merged.windows.map((window) => [window.index, window]));
  const points: LivePoint[] = [];
  for (let index = from; index <= merged.closedThrough; index++) points.push(pointOf(index, merged.windowMs, byIndex.get(index)));
  return points;
}
