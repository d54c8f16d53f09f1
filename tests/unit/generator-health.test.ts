/**
 * The generator self-check counts what can delay a measured request: the thread's GC pauses and
 * event-loop lag in the measured part of the phase, not in its warm-up, where the heap grows and
 * the code compiles. Each case stalls this thread (a forced full GC and a 150 ms busy loop) before
 * the measured start and measures a quiet stretch after it; the control case measures from the
 * start and must see both stalls, so the test fails when the warm-up is counted.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { decodeHistogram } from '../../src/shared/histogram';
import { watchGeneratorHealth } from '../../src/worker/generator-health';
import { Recorder } from '../../src/worker/recorder';

setFlagsFromString('--expose-gc');
const forceGc = runInNewContext('gc') as () => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Stalls (a full GC, then a busy loop) in a warm-up of `warmUpMs`, then runs quietly for 300 ms measured. */
async function healthWith(warmUpMs: number): Promise<{ gcPauses: number; worstLagMs: number }> {
  const fromEpochMs = Date.now() + warmUpMs;
  const recorder = new Recorder({ measureFromEpochMs: fromEpochMs, measureUntilEpochMs: Infinity, windowMs: 1000 });
  const health = watchGeneratorHealth(recorder, 1000, { fromEpochMs, untilEpochMs: Infinity });
  await sleep(20);
  forceGc();
  busyFor(150);
  await sleep(Math.max(0, fromEpochMs - Date.now()) + 300);
  health.stop();
  const result = recorder.finish();
  return {
    gcPauses: decodeHistogram(result.histograms.gcUs).totalCount,
    worstLagMs: decodeHistogram(result.histograms.loopLagUs).maxValue / 1000,
  };
}

test('stalls in the warm-up are not counted; the same stalls in the measured part are', async () => {
  const measuredFromStart = await healthWith(0);
  expect(measuredFromStart.gcPauses).toBeGreaterThanOrEqual(1);
  expect(measuredFromStart.worstLagMs).toBeGreaterThanOrEqual(120);
  // The GC is reported to the observer a little after it ends: the warm-up is long enough for that.
  const afterWarmUp = await healthWith(400);
  expect(afterWarmUp.gcPauses).toBe(0);
  // Nothing stalls after the measured start; a loaded machine may still delay a timer, by less than the stall.
  expect(afterWarmUp.worstLagMs).toBeLessThan(100);
});
