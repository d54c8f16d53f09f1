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
} from './distributions';
export { histogramValues } from './histogram-values';
export { sampleQuantile } from './sample-quantile';
export { rankTest } from './rank-test';
export { percentileInterval } from './percentile-interval';
export { proportionTest, type ProportionCounts, type ProportionTestMethod } from './proportion-test';
export { welchTTest } from './welch-t-test';
export { detectChangePoints } from './change-points';
export { noiseEnvelope, type NoiseEnvelope } from './noise-envelope';
