/**
 * Pure, deterministic statistics for comparing runs (BASE vs NEW) and watching a metric's history.
 * No I/O, no clock, no unseeded randomness: the same inputs always give the same numbers.
 */
export { statisticsDefaults } from './statistics-defaults';
export {
  logGamma,
  normalCdf,
  normalQuantile,
  regularizedIncompleteBeta,
  studentTCdf,
  sampleStandardNormal,
  sampleGamma,
  sampleBeta,
  type UniformSource,
} from './distributions';
export { histogramValues, type RecordedValues } from './histogram-values';
export { sampleQuantile } from './sample-quantile';
export { rankTest, type RankTestResult } from './rank-test';
export { percentileInterval, type PercentileInterval, type PercentileIntervalOptions } from './percentile-interval';
export {
  proportionTest,
  type ProportionCounts,
  type ProportionTestMethod,
  type ProportionTestOptions,
  type ProportionTestResult,
} from './proportion-test';
export { welchTTest, type WelchTTestResult } from './welch-t-test';
export { detectChangePoints, type ChangePoint, type ChangePointOptions } from './change-points';
export { noiseEnvelope, type NoiseEnvelope, type NoiseEnvelopeOptions } from './noise-envelope';
