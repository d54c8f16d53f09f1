/**
 * Turns encoded HdrHistograms (microseconds) into observations of a prom-client Histogram (seconds).
 * prom-client observes one value at a time, so each distinct recorded value is observed as often as
 * it was recorded: the work grows with the requests counted, on the thread that relays progress,
 * never in a generator thread. Values are each HDR bucket's highest equivalent value (within 0.1 %
 * at 3 significant digits), as the reports' percentiles are.
 */
import { decodeHistogram } from '../histogram';

/** Counts already observed, by HDR value (microseconds): what a later reconciliation leaves out. */
export type ObservedCounts = Map<number, number>;

/** Distinct values of an encoded histogram with their counts, lowest first; none for ''. */
function recordedValues(encoded: string): Array<[valueUs: number, count: number]> {
  if (encoded === '') return [];
  const histogram = decodeHistogram(encoded);
  if (histogram.totalCount === 0) return [];
  // A JavaScript histogram's iterator visits each non-empty bucket once.
  const iterator = histogram.recordedValuesIterator;
  iterator.reset();
  const values: Array<[number, number]> = [];
  while (iterator.hasNext()) {
    const step = iterator.next();
    values.push([step.valueIteratedTo, step.countAtValueIteratedTo]);
  }
  return values;
}

/**
 * Observes every value of `encoded` (live windows), and adds them to `observed`. `observe` is a
 * Histogram's observe with its labels bound.
 */
export function observeEncoded(observe: (seconds: number) => void, encoded: string, observed: ObservedCounts): void {
  for (const [valueUs, count] of recordedValues(encoded)) {
    for (let index = 0; index < count; index++) observe(valueUs / 1e6);
    observed.set(valueUs, (observed.get(valueUs) ?? 0) + count);
  }
}

/**
 * Observes what `encoded` (a shard's whole-phase histogram) holds beyond `observed`: after it, the
 * observations of the shard equal its result's histogram exactly.
 */
export function observeRemainder(observe: (seconds: number) => void, encoded: string, observed: ObservedCounts): void {
  for (const [valueUs, count] of recordedValues(encoded)) {
    const remaining = count - (observed.get(valueUs) ?? 0);
    for (let index = 0; index < remaining; index++) observe(valueUs / 1e6);
  }
}
