/**
 * The distinct values of an HdrHistogram: the same buckets, counts and representative values as the
 * library's own recorded-values iteration.
 */
import * as hdr from 'hdr-histogram-js';
import { histogramValues } from '../../src/coordinator/statistics';
import { createHistogram, decodeHistogram, encodeHistogram, type Histogram } from '../../src/shared/histogram';
import { createRandom } from '../../src/shared/seeded-random';

/** What the library's RecordedValuesIterator yields: [valueIteratedTo, count] per non-empty bucket. */
function libraryIteration(histogram: hdr.JsHistogram): Array<[number, number]> {
  const iterator = histogram.recordedValuesIterator;
  iterator.reset();
  const pairs: Array<[number, number]> = [];
  while (iterator.hasNext()) {
    const step = iterator.next();
    pairs.push([step.valueIteratedTo, step.countAtValueIteratedTo]);
  }
  return pairs;
}

function pairsOf(histogram: Histogram): Array<[number, number]> {
  const { values, counts } = histogramValues(histogram);
  return Array.from(values, (value, i) => [value, counts[i]!]);
}

describe('histogramValues', () => {
  test('lists buckets in increasing order with their highest equivalent value and count', () => {
    const histogram = createHistogram();
    // Below 2048 us every integer has its own bucket; above, 3 significant digits group values.
    for (const valueUs of [0, 1, 2047, 2048, 2049, 2050, 149_000, 149_100, 60_000_000]) histogram.recordValue(valueUs);
    histogram.recordValueWithCount(1, 4);
    expect(pairsOf(histogram)).toEqual([
      [0, 1],
      [1, 5],
      [2047, 1],
      [2049, 2],
      [2051, 1],
      [149_119, 2],
      [60_030_975, 1],
    ]);
    expect(histogramValues(histogram).totalCount).toBe(13);
  });

  test('matches the library recorded-values iterator and getValueAtPercentile on lognormal data', () => {
    const histogram = createHistogram() as hdr.JsHistogram;
    const uniform = createRandom(3);
    for (let i = 0; i < 50_000; i++) histogram.recordValue(Math.round(200_000 * Math.exp(0.8 * (uniform() + uniform() + uniform() - 1.5))));
    const pairs = pairsOf(histogram);
    expect(pairs).toEqual(libraryIteration(histogram));
    // The value at a percentile is the first listed value whose running count reaches ceil(p n).
    let running = 0;
    const rank = Math.ceil(0.99 * histogram.totalCount);
    const p99 = pairs.find(([, count]) => (running += count) >= rank)![0];
    expect(p99).toBe(histogram.getValueAtPercentile(99));
  });

  test('merged and decoded histograms list the same values as one recorded in place', () => {
    const whole = createHistogram();
    const first = createHistogram();
    const second = createHistogram();
    for (let valueUs = 1000; valueUs < 500_000; valueUs += 997) {
      whole.recordValue(valueUs);
      (valueUs % 2 === 0 ? first : second).recordValue(valueUs);
    }
    const merged = decodeHistogram(encodeHistogram(first));
    merged.add(decodeHistogram(encodeHistogram(second)));
    expect(pairsOf(merged)).toEqual(pairsOf(whole));
  });

  test('an empty histogram lists nothing', () => {
    const empty = histogramValues(createHistogram());
    expect(empty.values.length).toBe(0);
    expect(empty.totalCount).toBe(0);
  });
});
