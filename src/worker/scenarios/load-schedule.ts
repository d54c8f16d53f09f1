/**
 * Staged load, and open-loop arrival times of one slice: evenly spaced or Poisson, at a constant rate or ramping
 * linearly through stages. Times are generated lazily (a long soak holds no list of them) by
 * walking the cumulative rate: arrival n comes when the expected count reaches the n-th threshold,
 * 1, 2, 3... for even spacing, a running sum of exponential draws for Poisson.
 */
import type { Phase } from '../../shared/phase-schema';
import { createRandom } from '../../shared/seeded-random';
import { stagedValueAt } from '../../shared/staged-load';

/** Rate (arrivals per second) at `tMs` after the phase start. */
function rateAt(load: Phase['load'], tMs: number): number {
  return load.stages ? stagedValueAt(load.stages, 'rate', tMs) : (load.rate ?? 0);
}

/**
 * Arrival offsets (ms after the phase start, to the microsecond) before `endMs`, for a slice sending
 * `share` of the load. Even spacing starts at the phase start (10/s for 10 s: 0, 100, ... 9900 ms),
 * so that a phase holds rate x duration arrivals, none of them at its very end. Offsets are rounded
 * before the end is checked: the running sum carries rounding errors, and an arrival due exactly at
 * the end would otherwise come out a hair before it, sent as the phase ends and never measured.
 */
export function* arrivalOffsets(load: Phase['load'], endMs: number, share: number, seed: number): Generator<number> {
  const random = createRandom(seed);
  const nextThreshold = () => (load.arrival === 'poisson' ? -Math.log(1 - random()) : 1);
  const STEP_MS = 1;
  let expected = 0;
  let threshold = load.arrival === 'poisson' ? nextThreshold() : 0;
  for (let tMs = 0; tMs < endMs; tMs += STEP_MS) {
    const perStep = (rateAt(load, tMs) * share * STEP_MS) / 1000;
    // Several arrivals may fall in one step at high rates: place them inside it proportionally.
    while (perStep > 0 && expected + perStep >= threshold) {
      const offsetMs = Math.round((tMs + ((threshold - expected) / perStep) * STEP_MS) * 1000) / 1000;
      if (offsetMs >= endMs) return;
      yield offsetMs;
      threshold += nextThreshold();
    }
    expected += perStep;
  }
}
