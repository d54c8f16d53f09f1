/**
 * Mann-Whitney U on histograms against scipy 1.17's `mannwhitneyu` on the expanded samples.
 */
import { rankTest } from '../../src/coordinator/statistics';
import { createHistogram, type Histogram } from '../../src/shared/histogram';

/** A histogram holding `counts[i]` copies of `values[i]` (microseconds below 2048 are exact buckets). */
function histogramOf(values: number[], counts: number[] = values.map(() => 1)): Histogram {
  const histogram = createHistogram();
  values.forEach((valueUs, i) => histogram.recordValueWithCount(valueUs, counts[i]!));
  return histogram;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Relative closeness for p-values: they are compared through their leading digits. */
function expectRelative(actual: number, expected: number, relative = 1e-9) {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected));
}

describe('rankTest', () => {
  // Each row: scipy.stats.mannwhitneyu(new, base, alternative=..., use_continuity=True,
  // method='asymptotic') on the expanded samples (numpy.repeat(values, counts)): U, then the p-value
  // for 'two-sided', 'greater', 'less'.
  const cases: Array<{ name: string; base: Histogram; next: Histogram; u: number; pValue: number; pGreater: number; pLess: number }> = [
    {
      name: 'small samples, no ties',
      base: histogramOf([110, 120, 135, 150, 161, 170, 180, 199]),
      next: histogramOf([125, 140, 155, 175, 190, 210, 220, 230, 240]),
      u: 54,
      pValue: 0.09219359636573936,
      pGreater: 0.04609679818286968,
      pLess: 0.9624753826395992,
    },
    {
      name: 'heavy ties (three and four distinct values)',
      base: histogramOf([100, 200, 300], [30, 50, 20]),
      next: histogramOf([100, 200, 300, 400], [20, 50, 35, 5]),
      u: 6700,
      pValue: 0.0032810860374518367,
      pGreater: 0.0016405430187259183,
      pLess: 0.9983723884661282,
    },
    {
      name: '10^7 values: a 1 us shift of a uniform 1000..1999 us',
      base: histogramOf(
        range(1000, 2000),
        range(1000, 2000).map(() => 5000),
      ),
      next: histogramOf(
        range(1001, 2001),
        range(1001, 2001).map(() => 5000),
      ),
      u: 12524987500000,
      pValue: 4.387748446210155e-8,
      pGreater: 2.1938742231050775e-8,
      pLess: 0.9999999780612578,
    },
  ];

  test.each(cases)('$name: U and the three p-values match scipy', ({ base, next, u, pValue, pGreater, pLess }) => {
    const result = rankTest(base, next)!;
    expect(result.u).toBe(u);
    expectRelative(result.pValue, pValue);
    expectRelative(result.pGreater, pGreater);
    expectRelative(result.pLess, pLess);
    expect(result.probabilityOfSuperiority).toBeCloseTo(u / (result.nBase * result.nNew), 15);
    expect(Math.sign(result.z)).toBe(1);
  });

  test('the effect size is P(new > base) + P(tie) / 2, and swapping the sides mirrors everything', () => {
    const base = histogramOf([1, 2, 3]);
    const next = histogramOf([2, 3, 4, 5]);
    // Of 12 pairs: new > base in 9, ties in 2 (2-2, 3-3), new < base in 1 (2 < 3).
    const forward = rankTest(base, next)!;
    expect(forward.u).toBe(10);
    expect(forward.probabilityOfSuperiority).toBeCloseTo(10 / 12, 15);
    expect([forward.nBase, forward.nNew]).toEqual([3, 4]);
    const backward = rankTest(next, base)!;
    expect(backward.probabilityOfSuperiority).toBeCloseTo(2 / 12, 15);
    expect(backward.z).toBeCloseTo(-forward.z, 12);
    expect(backward.pValue).toBeCloseTo(forward.pValue, 12);
    expect(backward.pGreater).toBeCloseTo(forward.pLess, 12);
  });

  test('identical distributions give U = n m / 2, z = 0, p = 1', () => {
    const values = [500, 700, 900, 1500];
    const result = rankTest(histogramOf(values, [3, 5, 5, 3]), histogramOf(values, [3, 5, 5, 3]))!;
    expect(result.u).toBe((16 * 16) / 2);
    expect(result.z).toBe(0);
    expect(result.pValue).toBe(1);
    expect(result.probabilityOfSuperiority).toBe(0.5);
  });

  test('every value in one bucket: no variance, nothing to conclude', () => {
    const result = rankTest(histogramOf([1000], [50]), histogramOf([1000], [70]))!;
    expect(result).toMatchObject({ z: 0, pValue: 1, pGreater: 1, pLess: 1, probabilityOfSuperiority: 0.5 });
  });

  test('an empty side is not computable', () => {
    expect(rankTest(createHistogram(), histogramOf([1, 2]))).toBeNull();
    expect(rankTest(histogramOf([1, 2]), createHistogram())).toBeNull();
  });

  test('10^7 counts over 10^4 distinct values take milliseconds (O(distinct values))', () => {
    const base = createHistogram();
    const next = createHistogram();
    // Geometric spacing over 1 ms .. 60 s: every value its own bucket, 5000 values per side.
    for (let i = 0; i < 5000; i++) {
      const valueUs = Math.round(1000 * Math.pow(60_000, i / 5000));
      base.recordValueWithCount(valueUs, 1000);
      next.recordValueWithCount(Math.round(valueUs * 1.01), 1000);
    }
    const started = performance.now();
    const result = rankTest(base, next)!;
    const elapsedMs = performance.now() - started;
    expect(result.nBase + result.nNew).toBe(10_000_000);
    expect(result.pGreater).toBeLessThan(1e-6);
    // Measured in single-digit ms; the bound is headroom for a loaded CI.
    expect(elapsedMs).toBeLessThan(500);
  });
});
