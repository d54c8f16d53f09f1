/**
 * A running phase's success criteria, judged so far: on the running totals of the windows every
 * shard has closed (`LiveTotalsTracker`), by the report's own judge (`judgeCriterion`). Only what
 * windows carry can be judged live (latency percentiles, request and error counts, throughput,
 * mean concurrency); every other criterion (memory, context, stability, switches...) is judged at
 * the end, on the merged result. Provisional: a criterion holding so far may still break.
 */
import { judgeCriterion, type Criterion } from '../../shared/criteria';
import { summarize, type Histogram } from '../../shared/histogram';
import type { Summary } from '../../shared/phase-metrics';
import type { RecentWindows } from '../../shared/window-series';
import { LiveTotalsTracker, type LiveTotals } from './live-totals';

interface LiveCriterion {
  metric: string;
  /** As the plan wrote it: "< 1s". */
  text: string;
  /** `waiting`: no data for it yet; `at-end`: live windows cannot judge it, the report will. */
  state: 'holding' | 'broken' | 'waiting' | 'at-end';
  /** The judge's words when judged: "612 ms is not < 500 ms (over by 112 ms)". */
  verdict: string | null;
}

export interface LiveCriteria {
  /** Measured time the judgment covers, on every shard. */
  measuredMs: number;
  criteria: LiveCriterion[];
}

const STATS = ['p50', 'p90', 'p95', 'p99', 'max', 'mean'] as const;

/** Readers of a summary metric family (`latency.e2e.p95`...) from a live histogram. */
function summaryReaders(prefix: string, pick: (totals: LiveTotals) => Histogram): Record<string, (totals: LiveTotals) => number | null> {
  const read = (totals: LiveTotals): Summary | null => summarize(pick(totals));
  return Object.fromEntries(STATS.map((stat) => [`${prefix}.${stat}`, (totals: LiveTotals) => read(totals)?.[stat] ?? null]));
}

const perSecond = (count: number, totals: LiveTotals) => (totals.throughMs > 0 ? count / (totals.throughMs / 1000) : null);

/** The metrics (names of `METRICS`) that live windows measure as the report does, and how. */
export const LIVE_METRICS: Readonly<Record<string, (totals: LiveTotals) => number | null>> = Object.freeze({
  ...summaryReaders('latency.e2e', (totals) => totals.e2eUs),
  ...summaryReaders('latency.ttft', (totals) => totals.ttftUs),
  ...summaryReaders('latency.itl', (totals) => totals.itlUs),
  'requests.total': (totals) => totals.ok + totals.errors,
  'requests.errors': (totals) => totals.errors,
  'requests.errorRate': (totals) => (totals.ok + totals.errors > 0 ? totals.errors / (totals.ok + totals.errors) : null),
  'throughput.rps': (totals) => perSecond(totals.ok, totals),
  'throughput.outputTokensPerSecond': (totals) => perSecond(totals.outputTokens, totals),
  'concurrency.mean': (totals) => (totals.throughMs > 0 ? totals.inFlightMs / totals.throughMs : null),
});

/** Each criterion, judged on the totals so far (all waiting before there are any). */
export function judgeLive(criteria: readonly Criterion[], totals: LiveTotals | null): LiveCriteria {
  return {
    measuredMs: totals?.throughMs ?? 0,
    criteria: criteria.map((criterion): LiveCriterion => {
      const base = { metric: criterion.metric, text: criterion.text };
      const read = Object.hasOwn(LIVE_METRICS, criterion.metric) ? LIVE_METRICS[criterion.metric] : undefined;
      if (!read) return { ...base, state: 'at-end', verdict: null };
      const value = totals ? read(totals) : null;
      if (value === null || Number.isNaN(value)) return { ...base, state: 'waiting', verdict: null };
      const judged = judgeCriterion(criterion, value);
      return { ...base, state: judged.passed ? 'holding' : 'broken', verdict: judged.verdict };
    }),
  };
}

/**
 * Windows shorter than this are not judged live. A shard's progress carries its latest 5 windows
 * and reaches Redis at most once a second (up to 1.25 s after a window closed), and a follower
 * reads it every 500 ms: shorter windows could close and drop out between two reads, and the totals
 * would undercount without a sign. Such a phase's criteria are all judged at the end.
 */
const MIN_LIVE_WINDOW_MS = 500;

/** Every criterion left to the end: its phase's windows are too short to be followed exactly. */
function allAtEnd(criteria: readonly Criterion[]): LiveCriteria {
  return { measuredMs: 0, criteria: criteria.map(({ metric, text }) => ({ metric, text, state: 'at-end', verdict: null })) };
}

/** Follows one phase's criteria from its shards' progress; null from `update` when the phase has no criteria. */
export function followLiveCriteria(criteria: readonly Criterion[]): {
  update(recents: ReadonlyArray<RecentWindows | undefined>): LiveCriteria | null;
} {
  const tracker = new LiveTotalsTracker();
  let judged: { totals: LiveTotals | null; live: LiveCriteria } | undefined;
  let tooShort: LiveCriteria | undefined;
  return {
    update(recents) {
      if (criteria.length === 0) return null;
      // Once seen short, always: windows only grow, and the totals may have missed some by then.
      if (!tooShort && recents.some((recent) => recent !== undefined && recent.windowMs < MIN_LIVE_WINDOW_MS))
        tooShort = allAtEnd(criteria);
      if (tooShort) return tooShort;
      const totals = tracker.update(recents);
      // The tracker hands back the same totals while nothing changed: judged once.
      if (judged?.totals !== totals) judged = { totals, live: judgeLive(criteria, totals) };
      return judged.live;
    },
  };
}
