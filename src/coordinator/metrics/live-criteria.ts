/**
 * A running phase's success criteria, judged so far: on the sum of its shards' latest totals
 * (`LiveTotals`: everything each shard has measured since the measured start, carried whole in
 * every progress report), by the report's own judge (`judgeCriterion`). Any reader judges the same
 * from the same reports, wherever and whenever it starts reading: nothing is kept between reports.
 * Only what the totals carry can be judged live (latency percentiles, request and error counts,
 * throughput, mean concurrency); every other criterion (memory, context, stability, switches...)
 * is judged at the end, on the merged result. Provisional: a criterion holding so far may still break.
 *
 * "So far" when shards report at different instants: every request each shard had measured at its
 * latest report, summed; rates over the report's own span (the earliest measured start to the
 * latest end among those requests). Counts, error rates and percentiles are then exactly those of
 * the requests summed. A shard whose latest report is older than another's (by up to about a
 * second: totals are taken about once a second) misses its newest requests while the span runs to
 * the other's, so a rate may read low by that shard's share of the gap, a few percent early in a
 * phase and less later; no rate reads high. Once every shard has ended, the totals are its result's
 * and the judgment is the report's, exactly.
 */
import { judgeCriterion, type Criterion } from '../../shared/criteria';
import { createHistogram, decodeHistogram, type Histogram } from '../../shared/histogram';
import { addCounts, type LiveTotals } from '../../shared/live-totals';

interface LiveCriterion {
  metric: string;
  /** As the plan wrote it: "< 1s". */
  text: string;
  /** `waiting`: no data for it yet; `at-end`: live totals cannot judge it, the report will. */
  state: 'holding' | 'broken' | 'waiting' | 'at-end';
  /** The judge's words when judged: "612 ms is not < 500 ms (over by 112 ms)". */
  verdict: string | null;
}

export interface LiveCriteria {
  /** The span the judged requests cover, from the earliest measured start to the latest end (the report's `durationMs`). */
  measuredMs: number;
  criteria: LiveCriterion[];
}

/** A phase's totals so far: its shards' latest, added (histograms decoded once, for every criterion to read). */
interface PhaseTotals {
  ok: number;
  errors: number;
  outputTokens: number;
  inFlightMs: number;
  durationMs: number;
  e2eUs: Histogram;
  ttftUs: Histogram;
  itlUs: Histogram;
}

/** The phase's totals from each shard's latest (in shard order); null while a shard has given none. */
function phaseTotals(shards: ReadonlyArray<LiveTotals | undefined>): PhaseTotals | null {
  if (shards.length === 0 || shards.some((shard) => shard === undefined)) return null;
  const parts = shards as LiveTotals[];
  const add = (name: keyof LiveTotals['histograms']) => {
    const sum = createHistogram();
    for (const part of parts) if (part.histograms[name] !== '') sum.add(decodeHistogram(part.histograms[name]));
    return sum;
  };
  const { ok, errors, outputTokens, inFlightMs, firstStartMs, lastEndMs } = addCounts(parts);
  return {
    ok,
    errors,
    outputTokens,
    inFlightMs,
    // As the report's: from the first measured start to the last end.
    durationMs: firstStartMs !== null && lastEndMs !== null ? lastEndMs - firstStartMs : 0,
    e2eUs: add('e2eUs'),
    ttftUs: add('ttftUs'),
    itlUs: add('itlUs'),
  };
}

/**
 * How each statistic reads a histogram (microseconds), in ms, as `summarize` reads it for the
 * report; read one by one, since a histogram's mean walks all its values (about 7 ms for a wide ITL
 * histogram, where a percentile takes 0.02 ms).
 */
const STATS: Record<string, (histogram: Histogram) => number> = {
  p50: (histogram) => histogram.getValueAtPercentile(50),
  p90: (histogram) => histogram.getValueAtPercentile(90),
  p95: (histogram) => histogram.getValueAtPercentile(95),
  p99: (histogram) => histogram.getValueAtPercentile(99),
  max: (histogram) => histogram.maxValue,
  mean: (histogram) => histogram.mean,
};

/** Readers of a summary metric family (`latency.e2e.p95`...) from a live histogram. */
function summaryReaders(prefix: string, pick: (totals: PhaseTotals) => Histogram): Record<string, (totals: PhaseTotals) => number | null> {
  return Object.fromEntries(
    Object.entries(STATS).map(([stat, read]) => [
      `${prefix}.${stat}`,
      (totals: PhaseTotals) => {
        const histogram = pick(totals);
        return histogram.totalCount === 0 ? null : read(histogram) / 1000;
      },
    ]),
  );
}

const perSecond = (count: number, totals: PhaseTotals) => (totals.durationMs > 0 ? count / (totals.durationMs / 1000) : null);

/** The metrics (names of `METRICS`) that live totals measure as the report does (`computePhaseMetrics`), and how. */
export const LIVE_METRICS: Readonly<Record<string, (totals: PhaseTotals) => number | null>> = Object.freeze({
  ...summaryReaders('latency.e2e', (totals) => totals.e2eUs),
  ...summaryReaders('latency.ttft', (totals) => totals.ttftUs),
  ...summaryReaders('latency.itl', (totals) => totals.itlUs),
  'requests.total': (totals) => totals.ok + totals.errors,
  'requests.errors': (totals) => totals.errors,
  'requests.errorRate': (totals) => (totals.ok + totals.errors > 0 ? totals.errors / (totals.ok + totals.errors) : null),
  'throughput.rps': (totals) => perSecond(totals.ok, totals),
  'throughput.outputTokensPerSecond': (totals) => perSecond(totals.outputTokens, totals),
  'concurrency.mean': (totals) => (totals.durationMs > 0 ? totals.inFlightMs / totals.durationMs : null),
});

/**
 * Each criterion judged on the shards' latest totals (in shard order): all waiting while a shard
 * has given none, and null for a phase without criteria.
 */
export function judgeLive(criteria: readonly Criterion[], shards: ReadonlyArray<LiveTotals | undefined>): LiveCriteria | null {
  if (criteria.length === 0) return null;
  const totals = criteria.some((criterion) => Object.hasOwn(LIVE_METRICS, criterion.metric)) ? phaseTotals(shards) : null;
  return {
    measuredMs: totals?.durationMs ?? 0,
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
 * The judgment in words, as progress lines and the live page say it: "2 holding, 1 at the end,
 * 1 broken: latency.e2e.p95 612.0 ms is not < 500.0 ms (over by 112.0 ms)" (broken ones named last).
 */
export function describeLiveCriteria(live: LiveCriteria): string {
  const count = (state: LiveCriterion['state']) => live.criteria.filter((criterion) => criterion.state === state).length;
  const broken = live.criteria.filter((criterion) => criterion.state === 'broken');
  return [
    count('holding') > 0 ? `${count('holding')} holding` : '',
    count('waiting') > 0 ? `${count('waiting')} without data yet` : '',
    count('at-end') > 0 ? `${count('at-end')} at the end` : '',
    broken.length > 0 ? `${broken.length} broken: ${broken.map((criterion) => `${criterion.metric} ${criterion.verdict}`).join('; ')}` : '',
  ]
    .filter((part) => part !== '')
    .join(', ');
}
