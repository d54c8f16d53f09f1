/**
 * Defaults of the run-comparison statistics, in one place so the README and the verdict code quote
 * the same numbers. Each module takes these as option defaults; none reads them anywhere else.
 */
export const statisticsDefaults = Object.freeze({
  /** Two-sided confidence of every interval (percentile bootstrap, Newcombe). */
  confidence: 0.95,
  /**
   * Bootstrap replicates per percentile interval: 2000 puts the Monte Carlo error of a 95 % limit
   * near 1.5 % of the interval's width (normal case; Efron and Tibshirani recommend >= 1000 for
   * percentile limits); each costs two Beta draws and two binary searches, ~3 ms per interval.
   */
  bootstrapReplicates: 2000,
  /** Seed of the bootstrap's mulberry32 stream when the caller gives none: same inputs, same interval. */
  bootstrapSeed: 0x5eed,
  /** Fisher's exact test when the two samples together hold at most this many trials. */
  fisherMaxTotal: 1000,
  /** Fisher's exact test when any expected cell of the 2 x 2 table is below this (Cochran's rule). */
  fisherMinExpectedCell: 5,
  /**
   * A proposed change point is kept only when Welch's t-test between its two sides gives a p-value
   * below this. 0.001 is Apache Otava's (ex-Hunter) default `max_pvalue`. E-divisive proposes the
   * best of ~n splits, so the nominal p-value is optimistic; measured on simulated histories with
   * 5 % Gaussian run-to-run noise (2000 seeds): a flat 30-run history gets a spurious change point
   * in 3.5 % of cases (6 % at 100 runs, 1.7 % at p < 0.0001), a 20 % step is found in 99 % (89 %
   * at exactly the right run), a 10 % step within one run in 77 % (64 % at p < 0.0001). 0.001
   * keeps 2-sigma shifts visible; the spurious ones are small (median 6 %), below a noise-envelope
   * threshold.
   */
  changePointMaxPValue: 0.001,
  /**
   * Fewest runs on each side of a change point: 3 is the smallest segment whose variance means
   * anything, and it stops one spike (an outlier run) from being cut out as a segment of its own
   * (no spike at 3x the level was taken for a change point in 1000 simulated histories).
   */
  changePointMinSegmentLength: 3,
  /** The noise envelope's suggested threshold is this many times the 95th percentile of A/A pair differences. */
  noiseThresholdFactor: 2,
});
