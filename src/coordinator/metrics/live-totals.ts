/**
 * Running totals of a phase since its measured start, from the windows its shards close: what live
 * criteria are judged on. Progress carries only each shard's latest windows (`RecentWindows`), so
 * the totals are kept here from one report to the next: each window of each shard is taken once,
 * when that shard has closed it, and added to the totals only up to where every shard has closed
 * its windows (as `liveWindowOf` decides), so the totals are the merged windows of all shards over
 * one common span, histograms added: exact across shards, as the report's are.
 *
 * A shard's windows may coarsen while it runs (`WindowSeries`): its open window then takes in the
 * window before it, which may already be counted. That window is taken back out (counts and
 * histograms subtracted) and the longer window counted whole, once it closes.
 */
import { createHistogram, decodeHistogram, type Histogram } from '../../shared/histogram';
import type { RecentWindows, WindowRecord } from '../../shared/window-series';

export interface LiveTotals {
  /** The span covered, on every shard: from the measured start to this many ms after it. */
  throughMs: number;
  ok: number;
  errors: number;
  outputTokens: number;
  /** Requests in flight integrated over the span (request-milliseconds). */
  inFlightMs: number;
  /** Merged histograms (microseconds) of the requests that ended in the span. */
  e2eUs: Histogram;
  ttftUs: Histogram;
  itlUs: Histogram;
}

/** A window of one shard, placed in ms after the measured start (window lengths may differ between reports). */
interface Span {
  startMs: number;
  endMs: number;
  record: WindowRecord;
}

type Sums = Omit<LiveTotals, 'throughMs'>;

interface ShardTotals {
  originEpochMs: number;
  /** End of the last window this shard has closed, in ms after the measured start. */
  closedThroughMs: number;
  /** End of the windows taken so far (quiet ones included). */
  takenThroughMs: number;
  /** Taken, not yet added: some other shard has not closed that time yet. */
  pending: Span[];
  added: Sums;
  /** The last window added: the one a coarsening may fold into a longer window. */
  lastAdded: Span | null;
  /** Windows added or taken back so far: whether the totals changed. */
  addedCount: number;
}

const HISTOGRAMS = ['e2eUs', 'ttftUs', 'itlUs'] as const;

function emptySums(): Sums {
  return {
    ok: 0,
    errors: 0,
    outputTokens: 0,
    inFlightMs: 0,
    e2eUs: createHistogram(),
    ttftUs: createHistogram(),
    itlUs: createHistogram(),
  };
}

/** Adds a window to the sums, or (`sign` -1) takes it back out. */
function addRecord(sums: Sums, record: WindowRecord, sign: 1 | -1): void {
  sums.ok += sign * record.ok;
  sums.errors += sign * record.errors;
  sums.outputTokens += sign * record.outputTokens;
  sums.inFlightMs += sign * record.inFlightMs;
  for (const name of HISTOGRAMS) {
    const encoded = record.histograms[name];
    if (encoded === '') continue;
    if (sign === 1) sums[name].add(decodeHistogram(encoded));
    else sums[name].subtract(decodeHistogram(encoded));
  }
}

function newShard(recent: RecentWindows): ShardTotals {
  return {
    originEpochMs: recent.originEpochMs,
    closedThroughMs: 0,
    takenThroughMs: 0,
    pending: [],
    added: emptySums(),
    lastAdded: null,
    addedCount: 0,
  };
}

/** Takes the windows of `recent` this shard had not given yet. */
function take(shard: ShardTotals, recent: RecentWindows): void {
  const { windowMs } = recent;
  shard.closedThroughMs = Math.max(shard.closedThroughMs, (recent.closedThrough + 1) * windowMs);
  for (const record of recent.windows) {
    if (record.index > recent.closedThrough) continue;
    const span = { startMs: record.index * windowMs, endMs: (record.index + 1) * windowMs, record };
    if (span.endMs <= shard.takenThroughMs) continue;
    if (span.startMs < shard.takenThroughMs) {
      // Coarsened: this longer window holds shorter ones already taken; they give way to it.
      shard.pending = shard.pending.filter((taken) => taken.startMs < span.startMs);
      if (shard.lastAdded && shard.lastAdded.startMs >= span.startMs) {
        addRecord(shard.added, shard.lastAdded.record, -1);
        shard.lastAdded = null;
        shard.addedCount++;
      }
    }
    shard.pending.push(span);
    shard.takenThroughMs = span.endMs;
  }
  shard.takenThroughMs = Math.max(shard.takenThroughMs, shard.closedThroughMs);
}

/** Adds the shard's pending windows that end by `limitMs`; returns how far its added windows reach. */
function addThrough(shard: ShardTotals, limitMs: number): number {
  while (shard.pending[0] && shard.pending[0].endMs <= limitMs) {
    const span = shard.pending.shift() as Span;
    addRecord(shard.added, span.record, 1);
    shard.lastAdded = span;
    shard.addedCount++;
  }
  return Math.min(limitMs, shard.pending[0]?.startMs ?? limitMs);
}

/** Keeps a phase's totals from its shards' progress reports, one tracker per phase. */
export class LiveTotalsTracker {
  private readonly shards = new Map<number, ShardTotals>();
  private last: LiveTotals | null = null;
  /** Windows added and taken back when `last` was summed, and whether a shard started over since. */
  private lastChanges = 0;
  private restarted = false;

  /**
   * Takes the shards' latest reports (in shard order; undefined for a shard that has not reported
   * windows) and returns the totals so far: null before every shard has reported windows, and the
   * last totals while one has none (a shard that has ended reports no windows: its result has them).
   */
  update(recents: ReadonlyArray<RecentWindows | undefined>): LiveTotals | null {
    recents.forEach((recent, shardIndex) => {
      if (!recent) return;
      let shard = this.shards.get(shardIndex);
      // Another attempt of the shard (a retry elsewhere) counts from its own start: its first attempt's windows go.
      if (!shard || (recent.originEpochMs !== 0 && shard.originEpochMs !== 0 && recent.originEpochMs !== shard.originEpochMs)) {
        shard = newShard(recent);
        this.shards.set(shardIndex, shard);
        this.restarted = true;
      }
      take(shard, recent);
    });
    const shards = recents.map((recent, shardIndex) => (recent ? this.shards.get(shardIndex) : undefined));
    if (shards.length === 0 || shards.some((shard) => shard === undefined)) return this.last;
    const present = shards as ShardTotals[];
    const limitMs = Math.min(...present.map((shard) => shard.closedThroughMs));
    const throughMs = Math.min(...present.map((shard) => addThrough(shard, limitMs)));
    const changes = present.reduce((sum, shard) => sum + shard.addedCount, 0);
    // Nothing new: the same totals (summing histograms at every report would cost the coordinator's CPU for nothing).
    if (this.last?.throughMs === throughMs && changes === this.lastChanges && !this.restarted) return this.last;
    this.lastChanges = changes;
    this.restarted = false;
    const totals: LiveTotals = { throughMs, ...emptySums() };
    for (const shard of present) {
      totals.ok += shard.added.ok;
      totals.errors += shard.added.errors;
      totals.outputTokens += shard.added.outputTokens;
      totals.inFlightMs += shard.added.inFlightMs;
      for (const name of HISTOGRAMS) totals[name].add(shard.added[name]);
    }
    this.last = totals;
    return totals;
  }
}
