/**
 * Records one thread's measured requests window by window (see `WindowSeries`): counts, errors by
 * class, requests in flight, output tokens, open-loop arrivals and the worst event-loop lag, with
 * e2e, TTFT and ITL histograms per window. The current window's histograms are live and reused
 * (nothing is allocated per request); a window is encoded when time moves past it. Past
 * MAX_WINDOWS the window length doubles and neighbours merge, so memory stays bounded however long
 * the phase runs.
 */
import { createHistogram, decodeHistogram, encodeHistogram, type Histogram } from '../shared/histogram';
import {
  addWindows,
  coarsen,
  emptyWindow,
  MAX_WINDOWS,
  WINDOW_HISTOGRAMS,
  type WindowHistogramName,
  type RecentWindows,
  type WindowRecord,
  type WindowSeries,
} from '../shared/window-series';

/** Windows kept for progress reports: enough for a reader that polls every few seconds. */
const RECENT_WINDOWS = 5;

export class WindowRecorder {
  private windowMs: number;
  /** Closed windows by index (at the current window length). */
  private readonly closed = new Map<number, WindowRecord>();
  private current: WindowRecord;
  private readonly live = Object.fromEntries(WINDOW_HISTOGRAMS.map((name) => [name, createHistogram()])) as Record<
    WindowHistogramName,
    Histogram
  >;
  private liveCount = 0;

  /** Windows count from `originEpochMs` (the start of the measured part, common to all shards). */
  constructor(
    private readonly originEpochMs: number,
    baseWindowMs: number,
  ) {
    this.windowMs = baseWindowMs;
    this.current = emptyWindow(0);
  }

  private indexAt(epochMs: number): number {
    return Math.max(0, Math.floor((epochMs - this.originEpochMs) / this.windowMs));
  }

  /** The record of the window at `epochMs`: the current one, moved forward as time passes, or a closed one. */
  private windowAt(epochMs: number): WindowRecord {
    let index = this.indexAt(epochMs);
    if (index > this.current.index) {
      this.advanceTo(index);
      // Advancing may have coarsened the series: the same time falls in a longer window now.
      index = this.indexAt(epochMs);
    }
    if (index === this.current.index) return this.current;
    const past = this.closed.get(index) ?? emptyWindow(index);
    this.closed.set(index, past);
    return past;
  }

  private advanceTo(index: number): void {
    this.close();
    this.current = emptyWindow(index);
    if (this.closed.size >= MAX_WINDOWS) this.coarsen();
  }

  /** Encodes the live histograms into the current window, and files it with the closed ones. */
  private close(): void {
    const window = this.current;
    if (this.liveCount > 0) {
      for (const name of WINDOW_HISTOGRAMS) {
        const live = this.live[name];
        // The window may already hold encoded counts (merged in when the series coarsened).
        if (live.totalCount > 0 && window.histograms[name] !== '') live.add(decodeHistogram(window.histograms[name]));
        if (live.totalCount > 0) window.histograms[name] = encodeHistogram(live);
        live.reset();
      }
      this.liveCount = 0;
    }
    const empty = window.ok + window.errors + window.scheduled === 0 && window.inFlightMs === 0 && window.loopLagMaxMs === 0;
    if (!empty) this.closed.set(window.index, window);
  }

  private coarsen(): void {
    const series = coarsen(
      { windowMs: this.windowMs, originEpochMs: this.originEpochMs, windows: [...this.closed.values()] },
      this.windowMs * 2,
    );
    this.windowMs = series.windowMs;
    this.closed.clear();
    for (const window of series.windows) this.closed.set(window.index, window);
    // The current window's new index may already hold a closed half: they become one window.
    const index = Math.floor(this.current.index / 2);
    const earlierHalf = this.closed.get(index);
    this.closed.delete(index);
    this.current = earlierHalf ? addWindows(earlierHalf, { ...this.current, index }) : { ...this.current, index };
  }

  /** Adds a value to a histogram of the window: live for the current one, re-encoded for a closed one (rare). */
  private recordValue(window: WindowRecord, name: WindowHistogramName, valueUs: number): void {
    if (window === this.current) {
      this.live[name].recordValue(valueUs);
      this.liveCount++;
      return;
    }
    // A decoded histogram does not resize: add it into a fresh one that does.
    const histogram = createHistogram();
    if (window.histograms[name] !== '') histogram.add(decodeHistogram(window.histograms[name]));
    histogram.recordValue(valueUs);
    window.histograms[name] = encodeHistogram(histogram);
  }

  /** A measured request that succeeded, ending at `endEpochMs`; its gaps between tokens come with `recordGap`. */
  recordSuccess(endEpochMs: number, e2eUs: number, ttftUs: number | null, outputTokens: number): void {
    const window = this.windowAt(endEpochMs);
    window.ok++;
    window.outputTokens += outputTokens;
    this.recordValue(window, 'e2eUs', e2eUs);
    if (ttftUs !== null) this.recordValue(window, 'ttftUs', ttftUs);
  }

  /** A gap between two tokens of a request that ended at `endEpochMs`. */
  recordGap(endEpochMs: number, gapUs: number): void {
    this.recordValue(this.windowAt(endEpochMs), 'itlUs', gapUs);
  }

  /** A measured request that failed, ending at `endEpochMs`. */
  recordFailure(endEpochMs: number, errorClass: string): void {
    const window = this.windowAt(endEpochMs);
    window.errors++;
    window.errorsByClass[errorClass] = (window.errorsByClass[errorClass] ?? 0) + 1;
  }

  /** Open loop: an arrival scheduled at `epochMs` in the measured part. */
  recordScheduled(epochMs: number): void {
    this.windowAt(epochMs).scheduled++;
  }

  /** `count` requests were in flight from `fromEpochMs` to `toEpochMs`: spread over the windows it spans. */
  recordInFlight(fromEpochMs: number, toEpochMs: number, count: number): void {
    if (count === 0 || toEpochMs <= fromEpochMs) return;
    let from = Math.max(fromEpochMs, this.originEpochMs);
    while (from < toEpochMs) {
      const window = this.windowAt(from);
      const windowEnd = this.originEpochMs + (window.index + 1) * this.windowMs;
      const to = Math.min(toEpochMs, windowEnd);
      window.inFlightMs += count * (to - from);
      from = to;
    }
  }

  /** The worst event-loop lag seen at `epochMs`. */
  recordLoopLag(epochMs: number, lagMs: number): void {
    const window = this.windowAt(epochMs);
    window.loopLagMaxMs = Math.max(window.loopLagMaxMs, lagMs);
  }

  /** The latest closed windows (for live progress): moves to `epochMs` first, so quiet windows close too. */
  recent(epochMs: number): RecentWindows {
    if (this.indexAt(epochMs) > this.current.index) this.advanceTo(this.indexAt(epochMs));
    const windows = [...this.closed.values()].sort((a, b) => a.index - b.index).slice(-RECENT_WINDOWS);
    return { windowMs: this.windowMs, originEpochMs: this.originEpochMs, closedThrough: this.current.index - 1, windows };
  }

  finish(): WindowSeries {
    this.close();
    const windows = [...this.closed.values()].sort((a, b) => a.index - b.index);
    return { windowMs: this.windowMs, originEpochMs: this.originEpochMs, windows };
  }
}
