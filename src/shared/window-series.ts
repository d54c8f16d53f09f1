/**
 * Time series of a phase, window by window: what each window of time (from the phase's common
 * start) completed, failed, held in flight and how fast it answered. Windows add up exactly across
 * threads, shards and workers, as whole-phase histograms do: counts are summed and histograms
 * added, so a windowed p99 of a distributed run is exact.
 *
 * Memory stays bounded whatever the duration: a series holds at most MAX_WINDOWS windows. When a
 * recorder would pass that, it doubles its window length and merges neighbours (coarsening), so a
 * one-hour phase at 1 s windows ends with 4 s windows. Lengths are the plan's window times a power
 * of two, so series coarsened differently still merge (the finer one is coarsened to the other).
 */
import { decodeHistogram, encodeHistogram, createHistogram } from './histogram';

/** Windows a series keeps before it coarsens: about 1 kB each (three sparse histograms), so ~1 MB at most. */
export const MAX_WINDOWS = 900;

export const WINDOW_HISTOGRAMS = ['e2eUs', 'ttftUs', 'itlUs'] as const;
export type WindowHistogramName = (typeof WINDOW_HISTOGRAMS)[number];

export interface WindowRecord {
  /** Window number since the phase start, in units of the series' `windowMs`. */
  index: number;
  ok: number;
  errors: number;
  errorsByClass: Record<string, number>;
  /** Open loop: arrivals scheduled in this window. */
  scheduled: number;
  /** Requests in flight integrated over the window (request-milliseconds): divided by windowMs, the mean in flight. */
  inFlightMs: number;
  outputTokens: number;
  /** Worst event-loop lag a generator thread saw in this window (not added: the worst is kept). */
  loopLagMaxMs: number;
  /** Encoded HdrHistograms (microseconds) of the requests that ended in this window; '' when empty. */
  histograms: Record<WindowHistogramName, string>;
}

export interface WindowSeries {
  windowMs: number;
  /** Epoch ms where window 0 starts: the start of the phase's measured part, common to all shards (0 when empty). */
  originEpochMs: number;
  /** Ascending by index; windows in which nothing happened may be missing. */
  windows: WindowRecord[];
}

export function emptyWindow(index: number): WindowRecord {
  return {
    index,
    ok: 0,
    errors: 0,
    errorsByClass: {},
    scheduled: 0,
    inFlightMs: 0,
    outputTokens: 0,
    loopLagMaxMs: 0,
    histograms: { e2eUs: '', ttftUs: '', itlUs: '' },
  };
}

function addEncoded(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  const sum = createHistogram();
  sum.add(decodeHistogram(a));
  sum.add(decodeHistogram(b));
  return encodeHistogram(sum);
}

/** Two records of the same window (from two threads, or two finer windows) as one. */
export function addWindows(a: WindowRecord, b: WindowRecord): WindowRecord {
  const errorsByClass = { ...a.errorsByClass };
  for (const [name, count] of Object.entries(b.errorsByClass)) errorsByClass[name] = (errorsByClass[name] ?? 0) + count;
  return {
    index: a.index,
    ok: a.ok + b.ok,
    errors: a.errors + b.errors,
    errorsByClass,
    scheduled: a.scheduled + b.scheduled,
    inFlightMs: a.inFlightMs + b.inFlightMs,
    outputTokens: a.outputTokens + b.outputTokens,
    loopLagMaxMs: Math.max(a.loopLagMaxMs, b.loopLagMaxMs),
    histograms: {
      e2eUs: addEncoded(a.histograms.e2eUs, b.histograms.e2eUs),
      ttftUs: addEncoded(a.histograms.ttftUs, b.histograms.ttftUs),
      itlUs: addEncoded(a.histograms.itlUs, b.histograms.itlUs),
    },
  };
}

/** The series with windows `toWindowMs` long (a whole multiple of its own), neighbours merged. */
export function coarsen(series: WindowSeries, toWindowMs: number): WindowSeries {
  if (toWindowMs === series.windowMs) return series;
  // An empty series (a result with nothing recorded) takes any length.
  if (series.windows.length === 0) return { ...series, windowMs: toWindowMs, windows: [] };
  const factor = toWindowMs / series.windowMs;
  if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`cannot coarsen ${series.windowMs} ms windows to ${toWindowMs} ms`);
  const merged = new Map<number, WindowRecord>();
  for (const window of series.windows) {
    const index = Math.floor(window.index / factor);
    const existing = merged.get(index);
    merged.set(index, existing ? addWindows(existing, { ...window, index }) : { ...window, index });
  }
  return { windowMs: toWindowMs, originEpochMs: series.originEpochMs, windows: [...merged.values()].sort((a, b) => a.index - b.index) };
}

/** Series of parts that ran at the same time (threads, shards, workers) as one, window by window. */
export function mergeSeries(a: WindowSeries, b: WindowSeries): WindowSeries {
  const windowMs = Math.max(a.windowMs, b.windowMs);
  const byIndex = new Map<number, WindowRecord>();
  for (const window of [...coarsen(a, windowMs).windows, ...coarsen(b, windowMs).windows]) {
    const existing = byIndex.get(window.index);
    byIndex.set(window.index, existing ? addWindows(existing, window) : window);
  }
  const originEpochMs = a.originEpochMs || b.originEpochMs;
  return { windowMs, originEpochMs, windows: [...byIndex.values()].sort((x, y) => x.index - y.index) };
}

/**
 * The latest windows of a part still running (a thread, a shard), for live progress: the windows
 * it has closed recently, and the last window index it has closed at all (quiet windows included).
 */
export interface RecentWindows extends WindowSeries {
  closedThrough: number;
}

/**
 * Recent windows of parts running side by side, merged: only the windows every part has closed,
 * so a live view never shows a window half counted.
 */
export function mergeRecent(parts: readonly RecentWindows[]): RecentWindows | null {
  if (parts.length === 0) return null;
  const windowMs = Math.max(...parts.map((part) => part.windowMs));
  // A part's last closed window, in windows of the merged length (a partly closed long window is not closed).
  const closedThrough = Math.min(...parts.map((part) => Math.floor(((part.closedThrough + 1) * part.windowMs) / windowMs) - 1));
  const merged = parts.reduce<WindowSeries>((sum, part) => mergeSeries(sum, part), { windowMs, originEpochMs: 0, windows: [] });
  return { ...merged, windowMs, closedThrough, windows: merged.windows.filter((window) => window.index <= closedThrough) };
}
