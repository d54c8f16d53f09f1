/**
 * A running part's totals since the phase's measured start (a thread, then its shard): what live
 * criteria are judged on. They are the figures the part's result will hold, taken as they stand
 * (the recorder keeps them for the result anyway, so nothing is added per request): counts, the
 * first measured start and latest end, requests in flight integrated over time, and the e2e, TTFT
 * and ITL histograms, encoded as results carry them. Every report carries them whole, so whoever
 * reads a part's latest report has all it has measured, whenever it starts reading.
 */
import { encodeHistogram, mergeEncodedToEncoded, type Histogram } from './histogram';
import type { ShardResult } from './shard-result';

type LiveHistogramName = 'e2eUs' | 'ttftUs' | 'itlUs';

export interface LiveTotals {
  /** When they were taken, epoch ms (on the run's clock once they leave their worker); the latest part's, when merged. */
  atMs: number;
  ok: number;
  errors: number;
  outputTokens: number;
  /** Requests in flight integrated over time (request-milliseconds), as the result's `concurrency.inFlightIntegralMs`. */
  inFlightMs: number;
  /** Epoch ms of the earliest measured request start and latest end so far; null before the first ended. */
  firstStartMs: number | null;
  lastEndMs: number | null;
  /** Encoded HdrHistograms (microseconds) of every measured request so far; '' when empty. */
  histograms: Record<LiveHistogramName, string>;
}

const encodeOrEmpty = (histogram: Histogram) => (histogram.totalCount === 0 ? '' : encodeHistogram(histogram));

type ResultCounts = Pick<ShardResult, 'firstStartMs' | 'lastEndMs' | 'requests' | 'tokens' | 'concurrency'>;

/** The totals' figures that a result (or a recorder's counters) holds as they are. */
function countsOf(result: ResultCounts): Omit<LiveTotals, 'atMs' | 'histograms'> {
  return {
    ok: result.requests.ok,
    errors: result.requests.errors,
    outputTokens: result.tokens.output,
    inFlightMs: result.concurrency.inFlightIntegralMs,
    firstStartMs: result.firstStartMs,
    lastEndMs: result.lastEndMs,
  };
}

/** Totals of a recorder's figures as they stand at `atMs`: its counters, and its live histograms encoded. */
export function takeTotals(atMs: number, result: ResultCounts, histograms: Record<LiveHistogramName, Histogram>): LiveTotals {
  return {
    atMs,
    ...countsOf(result),
    histograms: {
      e2eUs: encodeOrEmpty(histograms.e2eUs),
      ttftUs: encodeOrEmpty(histograms.ttftUs),
      itlUs: encodeOrEmpty(histograms.itlUs),
    },
  };
}

/** A finished shard's totals, from its result: the same figures its last report would have carried. */
export function totalsOfResult(result: ShardResult, atMs = result.lastEndMs ?? 0): LiveTotals {
  return {
    atMs,
    ...countsOf(result),
    histograms: { e2eUs: result.histograms.e2eUs, ttftUs: result.histograms.ttftUs, itlUs: result.histograms.itlUs },
  };
}

const minOrNull = (values: Array<number | null>) => {
  const present = values.filter((value): value is number => value !== null);
  return present.length === 0 ? null : Math.min(...present);
};
const maxOrNull = (values: Array<number | null>) => {
  const present = values.filter((value): value is number => value !== null);
  return present.length === 0 ? null : Math.max(...present);
};

/** The counts of parts that ran side by side (threads of a shard, shards of a phase) as one, as `mergeShardResults` adds them. */
export function addCounts(parts: readonly LiveTotals[]): Omit<LiveTotals, 'atMs' | 'histograms'> {
  const sum = (pick: (part: LiveTotals) => number) => parts.reduce((total, part) => total + pick(part), 0);
  return {
    ok: sum((part) => part.ok),
    errors: sum((part) => part.errors),
    outputTokens: sum((part) => part.outputTokens),
    inFlightMs: sum((part) => part.inFlightMs),
    firstStartMs: minOrNull(parts.map((part) => part.firstStartMs)),
    lastEndMs: maxOrNull(parts.map((part) => part.lastEndMs)),
  };
}

/** Totals of parts that ran side by side (threads of a shard) as one, merged as `mergeShardResults` merges results. */
export function addTotals(parts: readonly LiveTotals[]): LiveTotals {
  const merge = (name: LiveHistogramName) => {
    const encoded = parts.map((part) => part.histograms[name]).filter((histogram) => histogram !== '');
    return encoded.length <= 1 ? (encoded[0] ?? '') : mergeEncodedToEncoded(encoded);
  };
  return {
    atMs: Math.max(...parts.map((part) => part.atMs)),
    ...addCounts(parts),
    histograms: { e2eUs: merge('e2eUs'), ttftUs: merge('ttftUs'), itlUs: merge('itlUs') },
  };
}

/** The totals with their epoch times moved by `offsetMs` (a worker's clock to the run's). */
export function shiftTotals(totals: LiveTotals, offsetMs: number): LiveTotals {
  if (offsetMs === 0) return totals;
  const shift = (epochMs: number | null) => (epochMs === null ? null : epochMs + offsetMs);
  return { ...totals, atMs: totals.atMs + offsetMs, firstStartMs: shift(totals.firstStartMs), lastEndMs: shift(totals.lastEndMs) };
}
