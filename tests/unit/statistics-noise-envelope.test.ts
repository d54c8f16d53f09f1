/**
 * The noise envelope of a metric's history (A/A spread between change points) and the type-7
 * sample quantile it rests on, both against numpy.
 */
import {
  detectChangePoints,
  noiseEnvelope,
  sampleQuantile,
  sampleStandardNormal,
  statisticsDefaults,
} from '../../src/coordinator/statistics';
import { createRandom } from '../../src/shared/seeded-random';

describe('sampleQuantile', () => {
  // numpy.percentile([1, 1, 2, 3, 4, 5, 6, 9], 100 * q) (linear, numpy's default)
  test.each([
    [0, 1.0],
    [0.1, 1.0],
    [0.5, 3.5],
    [0.95, 7.949999999999998],
    [1, 9.0],
  ])('q = %p gives %p', (q, expected) => {
    expect(sampleQuantile([1, 1, 2, 3, 4, 5, 6, 9], q)).toBeCloseTo(expected, 12);
  });

  test('one value is every quantile; no value is NaN; q outside [0, 1] is an error', () => {
    expect(sampleQuantile([7], 0.3)).toBe(7);
    expect(sampleQuantile([], 0.5)).toBeNaN();
    expect(() => sampleQuantile([1, 2], 1.5)).toThrow('q must be in [0, 1] (got 1.5)');
  });
});

describe('noiseEnvelope', () => {
  // Two segments of several runs (cut at 7 and 12) and a last segment of one run, left out.
  const series = [100.0, 102.5, 97.1, 101.3, 99.4, 104.2, 96.8, 120.3, 118.1, 123.9, 121.4, 119.0, 150.2];

  test('follows its definition on a literal history (values from numpy)', () => {
    const envelope = noiseEnvelope(series, [{ index: 7 }, { index: 12 }])!;
    expect(envelope.runs).toBe(12);
    expect(envelope.segments).toBe(2);
    // With m the segment median and numpy.percentile / numpy.median over the pooled values:
    // percentile(|x - m| / m, 95)
    expect(envelope.relativeSpread).toBeCloseTo(0.03650000000000002, 12);
    // 1.482602218505602 * median(|x - m| / m)
    expect(envelope.relativeSigma).toBeCloseTo(0.023193543184676785, 12);
    // percentile(|x_i - x_j| / m over pairs in one segment, 95)
    expect(envelope.pairwiseSpread).toBeCloseTo(0.06400000000000006, 12);
    expect(envelope.suggestedThreshold).toBeCloseTo(0.1280000000000001, 12);
  });

  test('accepts detectChangePoints output, in any order, and a threshold factor', () => {
    const fromIndexes = noiseEnvelope(series, [{ index: 12 }, { index: 7 }, { index: 7 }]);
    const points = detectChangePoints(series.slice(0, 12));
    expect(points.map((point) => point.index)).toEqual([7]);
    expect(noiseEnvelope(series.slice(0, 12), points)).toEqual({ ...fromIndexes!, segments: 2, runs: 12 });
    expect(noiseEnvelope(series, [{ index: 7 }, { index: 12 }], { thresholdFactor: 3 })!.suggestedThreshold).toBeCloseTo(
      3 * 0.06400000000000006,
      12,
    );
    expect(statisticsDefaults.noiseThresholdFactor).toBe(2);
  });

  test('for 5 % Gaussian noise: sigma near 5 %, and the threshold flags (almost) no A/A pair', () => {
    const uniform = createRandom(17);
    const run = (level: number) => level * (1 + 0.05 * sampleStandardNormal(uniform));
    const history = Array.from({ length: 120 }, (_, index) => run(index < 60 ? 1000 : 1300));
    const envelope = noiseEnvelope(history, detectChangePoints(history))!;
    expect(envelope.segments).toBe(2);
    expect(envelope.relativeSigma).toBeGreaterThan(0.04);
    expect(envelope.relativeSigma).toBeLessThan(0.06);
    // For normal noise the 95th percentile of |x_i - x_j| is 1.96 sqrt(2) sigma = 2.77 sigma.
    expect(envelope.pairwiseSpread / 0.05).toBeGreaterThan(2.3);
    expect(envelope.pairwiseSpread / 0.05).toBeLessThan(3.3);
    // New A/A pairs at the same noise, compared as a verdict would (new / base - 1): for normal
    // noise 2 x the 95th percentile is ~3.9 sd of a difference, exceeded by ~1e-4 of pairs.
    const pairs = 20_000;
    let flagged = 0;
    for (let i = 0; i < pairs; i++) if (Math.abs(run(1000) / run(1000) - 1) > envelope.suggestedThreshold) flagged++;
    expect(flagged / pairs).toBeLessThan(0.002);
  });

  test('nothing to measure gives null; bad input is an error', () => {
    expect(noiseEnvelope([], [])).toBeNull();
    expect(noiseEnvelope([5], [])).toBeNull();
    expect(noiseEnvelope([1, 2, 3], [{ index: 1 }, { index: 2 }])).toBeNull();
    // A segment whose median is not positive has no relative spread.
    expect(noiseEnvelope([0, 0, -1], [])).toBeNull();
    expect(() => noiseEnvelope([1, 2, 3], [{ index: 3 }])).toThrow('change point index must be an integer in [1, 2] (got 3)');
    expect(() => noiseEnvelope([1, Number.POSITIVE_INFINITY], [])).toThrow('series[1] must be a finite number (got Infinity)');
    expect(() => noiseEnvelope([1, 2], [], { thresholdFactor: 0 })).toThrow('options.thresholdFactor must be a finite number > 0 (got 0)');
  });
});
