/**
 * FOR TESTS ONLY: makes this process's wall clock wrong by GRYM_TEST_CLOCK_SKEW_MS (positive: ahead),
 * as a worker machine whose clock drifted would be. Loaded with
 * `NODE_OPTIONS=--require <this file>`, it runs before anything else in the process and in each of its
 * worker threads, and shifts both ways Node reads the wall clock: `Date.now()` and
 * `performance.timeOrigin` (which `performance.now()` times are added to). Timers and Redis `TIME`
 * are untouched, so the start barrier measures the skew as the worker's clock offset.
 */
'use strict';
/* global performance */
const skewMs = Number(process.env.GRYM_TEST_CLOCK_SKEW_MS || 0);
if (skewMs !== 0) {
  const realNow = Date.now;
  Date.now = () => realNow() + skewMs;
  Object.defineProperty(performance, 'timeOrigin', { value: performance.timeOrigin + skewMs, configurable: true });
}
