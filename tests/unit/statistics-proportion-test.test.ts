/**
 * Two-sample proportion test against scipy 1.17: Fisher's exact test for small counts, the pooled
 * z-test (Pearson's chi-square without continuity correction) otherwise, and Newcombe's interval
 * assembled from scipy's Wilson intervals.
 */
import { proportionTest, type ProportionTestMethod } from '../../src/coordinator/statistics';

/** Relative closeness, for p-values and interval limits. */
function expectRelative(actual: number, expected: number, relative: number) {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected) + 1e-15);
}

describe('proportionTest', () => {
  // [base count, base total, new count, new total, confidence, method, p-value, interval low, high].
  // p-value: scipy.stats.fisher_exact(table).pvalue for 'fisher-exact',
  // scipy.stats.chi2_contingency(table, correction=False).pvalue for 'two-proportion-z', with
  // table = [[base count, base total - base count], [new count, new total - new count]].
  // Interval: Newcombe's method 10 from (l, u) = scipy.stats.binomtest(count, total)
  // .proportion_ci(confidence, method='wilson') of each side:
  // [d - sqrt((p_new - l_new)^2 + (u_base - p_base)^2), d + sqrt((u_new - p_new)^2 + (p_base - l_base)^2)].
  const table: Array<[number, number, number, number, number, ProportionTestMethod, number, number, number]> = [
    [2, 50, 9, 50, 0.95, 'fisher-exact', 0.05112093374568651, 0.014611386282117167, 0.2711969709427304],
    [0, 200, 5, 200, 0.95, 'fisher-exact', 0.06093950240841397, 0.0013583004991918925, 0.05717834040664198],
    [3, 40, 3, 40, 0.95, 'fisher-exact', 1.0, -0.133058345946451, 0.133058345946451],
    // 10^5 requests per side, but an expected error count of 4 per side: Fisher.
    [1, 100000, 7, 100000, 0.95, 'fisher-exact', 0.07030703126361694, 1.0211124761856148e-6, 0.00013495243153660726],
    // Fisher over a support of 100 tables with 10^6 trials on one side (expected cell 3).
    [8, 100, 30000, 1000000, 0.95, 'fisher-exact', 0.010629706184142398, -0.11998186711305588, -0.011092009315189541],
    [120, 10000, 165, 10000, 0.95, 'two-proportion-z', 0.007258026435469716, 0.001214190699635249, 0.007824158674730426],
    [500, 40000, 300, 20000, 0.95, 'two-proportion-z', 0.011841419964459659, 0.0005424041247565244, 0.004563157977993829],
    // 1000 trials in all is still Fisher; 1001 is the z-test.
    [30, 500, 45, 500, 0.95, 'fisher-exact', 0.09222654444560874, -0.002863240713810493, 0.06336170389042492],
    [30, 500, 45, 501, 0.95, 'two-proportion-z', 0.07315964182130155, -0.0030142805196782738, 0.06313770760211808],
    [50, 50, 48, 50, 0.95, 'fisher-exact', 0.4949494949494949, -0.13460090687507031, 0.03700146831771092],
    [120, 10000, 165, 10000, 0.9, 'two-proportion-z', 0.007258026435469716, 0.0017449756909517851, 0.007282120344135345],
    [0, 1000000, 0, 1000000, 0.95, 'fisher-exact', 1.0, -3.841444063944942e-6, 3.841444063944942e-6],
    [0, 3, 2, 2, 0.95, 'fisher-exact', 0.10000000000000002, 0.13527884156571723, 1.0],
  ];

  test.each(table)(
    '%p/%p vs %p/%p at %p: %s, p and interval match scipy',
    (baseCount, baseTotal, newCount, newTotal, confidence, method, pValue, low, high) => {
      const result = proportionTest({ count: baseCount, total: baseTotal }, { count: newCount, total: newTotal }, { confidence })!;
      expect(result.method).toBe(method);
      expectRelative(result.pValue, pValue, 1e-9);
      expectRelative(result.interval[0], low, 1e-9);
      expectRelative(result.interval[1], high, 1e-9);
      expect(result.baseRate).toBe(baseCount / baseTotal);
      expect(result.newRate).toBe(newCount / newTotal);
      expect(result.difference).toBe(newCount / newTotal - baseCount / baseTotal);
      expect(result.confidence).toBe(confidence);
    },
  );

  test('swapping the sides keeps the p-value and mirrors the interval', () => {
    const forward = proportionTest({ count: 4, total: 60 }, { count: 12, total: 70 })!;
    const backward = proportionTest({ count: 12, total: 70 }, { count: 4, total: 60 })!;
    expect(backward.pValue).toBeCloseTo(forward.pValue, 12);
    expect(backward.interval[0]).toBeCloseTo(-forward.interval[1], 12);
    expect(backward.interval[1]).toBeCloseTo(-forward.interval[0], 12);
  });

  test('a side without trials is not computable', () => {
    expect(proportionTest({ count: 0, total: 0 }, { count: 1, total: 10 })).toBeNull();
    expect(proportionTest({ count: 1, total: 10 }, { count: 0, total: 0 })).toBeNull();
  });

  test.each([
    [{ count: -1, total: 10 }, { count: 0, total: 10 }, {}, 'base.count must be an integer in [0, base.total = 10] (got -1)'],
    [{ count: 11, total: 10 }, { count: 0, total: 10 }, {}, 'base.count must be an integer in [0, base.total = 10] (got 11)'],
    [{ count: 1, total: 10 }, { count: 0.5, total: 10 }, {}, 'new.count must be an integer in [0, new.total = 10] (got 0.5)'],
    [{ count: 1, total: 10 }, { count: 0, total: -3 }, {}, 'new.total must be an integer >= 0 (got -3)'],
    [{ count: 1, total: 10 }, { count: 0, total: 10 }, { confidence: 0 }, 'options.confidence must be in (0, 1), e.g. 0.95 (got 0)'],
  ])('%p vs %p with %p is rejected: %s', (base, next, options, message) => {
    expect(() => proportionTest(base, next, options)).toThrow(message);
  });
});
