/**
 * Distribution functions against scipy 1.17 (reference values are literals; each table names the
 * scipy call that produced it), and the seeded samplers against their distributions.
 */
import {
  logGamma,
  normalCdf,
  normalQuantile,
  regularizedIncompleteBeta,
  sampleBeta,
  sampleGamma,
  sampleStandardNormal,
  studentTCdf,
} from '../../src/coordinator/statistics';
import { createRandom } from '../../src/shared/seeded-random';

/** |actual - expected| <= relative * |expected| (plus a hair for expected values of 0). */
function expectRelative(actual: number, expected: number, relative: number) {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected) + 1e-300);
}

describe('logGamma', () => {
  // scipy.special.gammaln(x)
  const table: Array<[number, number]> = [
    [1e-3, 6.907178885383853],
    [0.1, 2.252712651734206],
    [0.5, 0.5723649429247],
    [1.5, -0.12078223763524526],
    [2.5, 0.2846828704729192],
    [3.7, 1.428072326665388],
    [9.99, 12.779315214350195],
    [10.01, 12.824350262448247],
    [25.5, 56.38916764371994],
    [100.5, 361.43554046777757],
    [1e4, 82099.71749644238],
    [1e7, 151180949.36947393],
  ];
  test.each(table)('logGamma(%p) = %p', (x, expected) => expectRelative(logGamma(x), expected, 1e-14));

  test('is 0 at 1 and 2, infinite at 0, NaN for negative arguments', () => {
    expect(Math.abs(logGamma(1))).toBeLessThan(1e-14);
    expect(Math.abs(logGamma(2))).toBeLessThan(1e-14);
    expect(logGamma(0)).toBe(Number.POSITIVE_INFINITY);
    expect(logGamma(-1)).toBeNaN();
  });
});

describe('normal distribution', () => {
  // scipy.stats.norm.cdf(z)
  const cdfTable: Array<[number, number]> = [
    [-37.5, 4.605353009581954e-308],
    [-30, 4.906713927147908e-198],
    [-20, 2.7536241186061556e-89],
    [-8.3, 5.2055697448902465e-17],
    [-5, 2.866515718791933e-7],
    [-1.96, 0.024997895148220435],
    [-1, 0.15865525393145707],
    [-0.1, 0.460172162722971],
    [0, 0.5],
    [0.3, 0.6179114221889526],
    [1, 0.8413447460685429],
    [2.5, 0.9937903346742238],
    [6, 0.9999999990134123],
  ];
  test.each(cdfTable)('normalCdf(%p) = %p, tails keep their relative precision', (z, expected) =>
    expectRelative(normalCdf(z), expected, 1e-13),
  );

  // scipy.stats.norm.ppf(p)
  const quantileTable: Array<[number, number]> = [
    [1e-300, -37.0470962993612],
    [1e-20, -9.262340089798409],
    [1e-10, -6.361340902404056],
    [1e-5, -4.264890793922825],
    [0.001, -3.090232306167813],
    [0.02, -2.053748910631823],
    [0.025, -1.9599639845400545],
    [0.3, -0.5244005127080409],
    [0.7, 0.5244005127080407],
    [0.975, 1.959963984540054],
    [0.99, 2.3263478740408408],
    [0.999999, 4.753424308817087],
  ];
  test.each(quantileTable)('normalQuantile(%p) = %p', (p, expected) => expectRelative(normalQuantile(p), expected, 1e-13));

  test('quantile edges: 0.5 -> 0, 0 and 1 -> infinities, outside [0, 1] -> NaN', () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(1.1)).toBeNaN();
    expect(normalCdf(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(normalCdf(Number.POSITIVE_INFINITY)).toBe(1);
  });
});

describe('regularized incomplete beta and Student t', () => {
  // scipy.special.betainc(a, b, x)
  const betaTable: Array<[number, number, number, number]> = [
    [0.5, 0.5, 0.3, 0.36901011956554536],
    [2, 3, 0.4, 0.5247999999999999],
    [10, 0.5, 0.01, 1.770034965528571e-21],
    [100, 200, 0.33, 0.45661816333399713],
    [1, 1, 0.7, 0.7],
    [5000, 5000, 0.49, 0.02274203232457461],
    [0.1, 10, 0.9, 0.9999999999985645],
    [3.5, 0.5, 0.9999, 0.9796298648605714],
    [50, 51, 0.4, 0.027099197757009065],
  ];
  test.each(betaTable)('I(a=%p, b=%p, x=%p) = %p', (a, b, x, expected) =>
    expectRelative(regularizedIncompleteBeta(a, b, x), expected, 1e-11),
  );

  test('incomplete beta edges', () => {
    expect(regularizedIncompleteBeta(2, 3, 0)).toBe(0);
    expect(regularizedIncompleteBeta(2, 3, 1)).toBe(1);
    expect(regularizedIncompleteBeta(0, 3, 0.5)).toBeNaN();
    expect(regularizedIncompleteBeta(2, 3, 1.5)).toBeNaN();
  });

  // scipy.stats.t.cdf(t, df)
  const tTable: Array<[number, number, number]> = [
    [-50, 3, 8.808576020635984e-6],
    [-10, 2.5, 0.0022207478836537117],
    [-3, 10, 0.006671827511284785],
    [-1, 1, 0.25000000000000006],
    [0, 5, 0.5],
    [2, 7.3, 0.9580294803329484],
    [4, 30, 0.9998090771819581],
    [-6, 100, 1.586245751401426e-8],
    [-40, 4.2, 6.947532329022907e-7],
    [1.5, 1e4, 0.9331770140881902],
  ];
  test.each(tTable)('studentTCdf(%p, df=%p) = %p', (t, df, expected) => expectRelative(studentTCdf(t, df), expected, 1e-11));

  test('infinite degrees of freedom is the normal distribution', () => {
    expect(studentTCdf(-1.96, Number.POSITIVE_INFINITY)).toBe(normalCdf(-1.96));
  });
});

/** Kolmogorov-Smirnov distance between a sample and a CDF. */
function ksDistance(sample: number[], cdf: (x: number) => number): number {
  const sorted = [...sample].sort((a, b) => a - b);
  let distance = 0;
  sorted.forEach((x, i) => {
    const f = cdf(x);
    distance = Math.max(distance, Math.abs(f - i / sorted.length), Math.abs((i + 1) / sorted.length - f));
  });
  return distance;
}

const SAMPLES = 10_000;
// Kolmogorov's critical distance at alpha = 0.001 is 1.949 / sqrt(n); with fixed seeds the test is
// deterministic, the bound only says the sampler is right.
const KS_CRITICAL = 1.949 / Math.sqrt(SAMPLES);

describe('seeded samplers', () => {
  test('standard normal deviates follow the normal CDF', () => {
    const uniform = createRandom(11);
    const sample = Array.from({ length: SAMPLES }, () => sampleStandardNormal(uniform));
    expect(ksDistance(sample, normalCdf)).toBeLessThan(KS_CRITICAL);
  });

  test.each([
    [2.5, 4],
    [0.3, 0.7],
    [1, 1],
    [50, 51],
  ])('Beta(%p, %p) deviates follow the Beta CDF (the incomplete beta)', (a, b) => {
    const uniform = createRandom(1000 + a * 10 + b);
    const sample = Array.from({ length: SAMPLES }, () => sampleBeta(a, b, uniform));
    expect(ksDistance(sample, (x) => regularizedIncompleteBeta(a, b, x))).toBeLessThan(KS_CRITICAL);
  });

  test('Beta order statistics of large samples keep their mean and spread (n = 10^6, k = 0.99 n)', () => {
    const uniform = createRandom(5);
    const draws = Array.from({ length: 4000 }, () => sampleBeta(990000, 10001, uniform));
    const mean = draws.reduce((sum, x) => sum + x, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (draws.length - 1));
    // scipy.stats.beta.mean(990000, 10001), scipy.stats.beta.std(990000, 10001)
    expect(Math.abs(mean - 0.98999901000099)).toBeLessThan((4 * 9.950351951639152e-5) / Math.sqrt(draws.length));
    expect(Math.abs(sd / 9.950351951639152e-5 - 1)).toBeLessThan(0.05);
  });

  test.each([0.2, 1, 3.7, 1e6])('Gamma(%p) deviates have mean and variance equal to the shape', (shape) => {
    const uniform = createRandom(Math.round(shape * 7919));
    const draws = Array.from({ length: SAMPLES }, () => sampleGamma(shape, uniform));
    const mean = draws.reduce((sum, x) => sum + x, 0) / draws.length;
    const variance = draws.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (draws.length - 1);
    expect(Math.abs(mean - shape)).toBeLessThan(5 * Math.sqrt(shape / SAMPLES));
    // The variance of a sample variance of Gamma(a) is about (2 a^2 + 6 a) / n.
    expect(Math.abs(variance - shape)).toBeLessThan(5 * Math.sqrt((2 * shape * shape + 6 * shape) / SAMPLES));
    expect(Math.min(...draws)).toBeGreaterThan(0);
  });

  test('the same seed gives the same draws; a source returning exactly 0 is safe', () => {
    const first = createRandom(42);
    const second = createRandom(42);
    const a = Array.from({ length: 50 }, () => sampleBeta(3, 7, first));
    const b = Array.from({ length: 50 }, () => sampleBeta(3, 7, second));
    expect(a).toEqual(b);
    expect(Number.isFinite(sampleStandardNormal(() => 0))).toBe(true);
    expect(() => sampleGamma(0, Math.random)).toThrow('shape must be a finite number > 0 (got 0)');
  });
});
