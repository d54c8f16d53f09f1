/**
 * Bootstrap intervals of a percentile's change: the point estimates are the report's percentiles,
 * the replicates follow the exact order-statistic distribution, a real shift is found, and a seed
 * fixes the result. Coverage is in statistics-percentile-coverage.test.ts.
 */
import { percentileInterval, sampleStandardNormal } from '../../src/coordinator/statistics';
import { createHistogram, type Histogram } from '../../src/shared/histogram';
import { createRandom } from '../../src/shared/seeded-random';

const { exp, round } = Math;

/** `count` lognormal latencies in integer microseconds: median `medianUs`, log-sd `sigma`. */
function lognormalHistogram(seed: number, count: number, medianUs: number, sigma = 0.5): Histogram {
  const uniform = createRandom(seed);
  const histogram = createHistogram();
  for (let i = 0; i < count; i++) histogram.recordValue(round(medianUs * exp(sigma * sampleStandardNormal(uniform))));
  return histogram;
}

function histogramOf(values: number[], counts: number[] = values.map(() => 1)): Histogram {
  const histogram = createHistogram();
  values.forEach((valueUs, i) => histogram.recordValueWithCount(valueUs, counts[i]!));
  return histogram;
}

const contains = ([low, high]: [number, number], value: number) => low <= value && value <= high;

describe('percentileInterval', () => {
  test('base and new are exactly getValueAtPercentile, for any count and percentile', () => {
    for (const count of [1, 2, 3, 7, 20, 100, 999]) {
      const base = lognormalHistogram(count, count, 80_000);
      const next = lognormalHistogram(count + 1, count, 90_000);
      for (const percentile of [0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100]) {
        const result = percentileInterval(base, next, percentile, { replicates: 100 })!;
        expect([result.base, result.new]).toEqual([base.getValueAtPercentile(percentile), next.getValueAtPercentile(percentile)]);
        expect(result.difference).toBe(result.new - result.base);
        expect(result.ratio).toBe(result.new / result.base);
      }
    }
  });

  test('replicates follow the exact distribution of a resampled order statistic', () => {
    // BASE is a point mass (every replicate is 1000 us), so the difference's limits are NEW's
    // resampled median minus 1000. NEW is 1..100 us once each: the resampled median is j with
    // P(<= j) = scipy.stats.beta.cdf(j / 100, 50, 51); its 1.5 % .. 3.5 % quantiles are 39 .. 41
    // and its 96.5 % .. 98.5 % quantiles 59 .. 61 (the Monte Carlo error of 2000 replicates fits).
    const next = histogramOf(Array.from({ length: 100 }, (_, i) => i + 1));
    const result = percentileInterval(histogramOf([1000], [1000]), next, 50, { seed: 9 })!;
    expect(result.new).toBe(50);
    const [low, high] = result.differenceInterval.map((limit) => limit + 1000) as [number, number];
    expect(low).toBeGreaterThanOrEqual(39);
    expect(low).toBeLessThanOrEqual(41);
    expect(high).toBeGreaterThanOrEqual(59);
    expect(high).toBeLessThanOrEqual(61);
  });

  test('a 20 % slowdown is found at p50 and p99 with 10^5 requests per side', () => {
    const base = lognormalHistogram(1, 100_000, 100_000);
    const next = lognormalHistogram(2, 100_000, 120_000);
    for (const percentile of [50, 99]) {
      const result = percentileInterval(base, next, percentile)!;
      expect(result.differenceInterval[0]).toBeGreaterThan(0);
      expect(result.ratioInterval![0]).toBeGreaterThan(1.1);
      expect(contains(result.ratioInterval!, 1.2)).toBe(true);
      expect(result.ratio!).toBeCloseTo(1.2, 1);
    }
  });

  test('the same seed gives the same intervals, another seed slightly different ones', () => {
    const base = lognormalHistogram(5, 3000, 50_000);
    const next = lognormalHistogram(6, 3000, 52_000);
    const first = percentileInterval(base, next, 95, { seed: 123 });
    expect(percentileInterval(base, next, 95, { seed: 123 })).toEqual(first);
    expect(percentileInterval(base, next, 95)).toEqual(percentileInterval(base, next, 95));
    const other = percentileInterval(base, next, 95, { seed: 124 })!;
    expect(other.differenceInterval).not.toEqual(first!.differenceInterval);
    expect(Math.abs(other.differenceInterval[0] - first!.differenceInterval[0])).toBeLessThan(
      0.2 * (first!.differenceInterval[1] - first!.differenceInterval[0]),
    );
    expect(first).toMatchObject({ confidence: 0.95, replicates: 2000, percentile: 95 });
  });

  test('a wider confidence gives a wider interval', () => {
    const base = lognormalHistogram(7, 5000, 50_000);
    const next = lognormalHistogram(8, 5000, 50_000);
    const narrow = percentileInterval(base, next, 90, { confidence: 0.8 })!;
    const wide = percentileInterval(base, next, 90, { confidence: 0.99 })!;
    expect(wide.differenceInterval[0]).toBeLessThan(narrow.differenceInterval[0]);
    expect(wide.differenceInterval[1]).toBeGreaterThan(narrow.differenceInterval[1]);
  });

  test('an empty side gives null; a zero BASE percentile gives no ratio', () => {
    expect(percentileInterval(createHistogram(), histogramOf([5]), 50)).toBeNull();
    expect(percentileInterval(histogramOf([5]), createHistogram(), 50)).toBeNull();
    const result = percentileInterval(histogramOf([0, 10], [60, 40]), histogramOf([10, 20]), 50)!;
    expect(result.base).toBe(0);
    expect(result.ratio).toBeNull();
    expect(result.ratioInterval).toBeNull();
    expect(result.difference).toBe(10);
  });

  test.each([
    [0, {}, 'percentile must be in (0, 100], e.g. 99 for p99 (got 0)'],
    [101, {}, 'percentile must be in (0, 100], e.g. 99 for p99 (got 101)'],
    [50, { confidence: 1 }, 'options.confidence must be in (0, 1), e.g. 0.95 (got 1)'],
    [50, { replicates: 99 }, 'options.replicates must be an integer >= 100 (got 99)'],
    [50, { replicates: 150.5 }, 'options.replicates must be an integer >= 100 (got 150.5)'],
    [50, { seed: 0.5 }, 'options.seed must be an integer (got 0.5)'],
  ])('percentile %p with %p is rejected: %s', (percentile, options, message) => {
    expect(() => percentileInterval(histogramOf([1]), histogramOf([1]), percentile, options)).toThrow(message);
  });
});
