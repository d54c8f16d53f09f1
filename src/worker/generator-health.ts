/**
 * Watches the generator thread itself: how late its event loop runs (Node's own event-loop delay
 * histogram), its event-loop utilization, and its garbage-collection pauses. A busy or lagging
 * generator sends late and reads replies late: its latencies would measure itself.
 *
 * Over the measured part of the phase only, as its latencies are: the warm-up is where the
 * thread's heap grows to its working size and its code compiles (scavenges of 2-13 ms were traced
 * there, against 0.5-1.4 ms later), and a pause there delays no measured request.
 */
import { monitorEventLoopDelay, PerformanceObserver, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Recorder } from './recorder';

/**
 * How often the delay is sampled (by a native timer: no JavaScript runs per sample): often enough
 * that the few-millisecond stretches in which responses that arrived together wait for each other
 * are sampled many times over a phase and show at the percentile the plan judges.
 */
const RESOLUTION_MS = 5;
/** Utilization over less than this is start-up, not load (a one-request run reads 95 %): not judged. */
const MIN_UTILIZATION_WINDOW_MS = 1000;

/** How much later than its resolution a delay histogram's worst sample came, in ms. */
const worstLagMs = (histogram: IntervalHistogram) => (histogram.count > 0 ? Math.max(0, histogram.max / 1e6 - RESOLUTION_MS) : 0);

/** The measured part of a phase, epoch ms (`untilEpochMs` Infinity when it ends with the phase). */
interface MeasuredSpan {
  fromEpochMs: number;
  untilEpochMs: number;
}

/**
 * `windowMs`: the phase's window, over which the worst lag is also recorded (for the time series).
 * Pauses count from `measured.fromEpochMs` to `untilEpochMs`; lag and utilization from
 * `fromEpochMs` to the end (a cooldown, seldom set, included), and not at all when it ends before.
 */
export function watchGeneratorHealth(recorder: Recorder, windowMs: number, measured: MeasuredSpan): { stop(): void } {
  let startUtilization: ReturnType<typeof performance.eventLoopUtilization> | undefined;
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const startMeasuring = () => {
    startUtilization = performance.eventLoopUtilization();
    delay.enable();
  };
  const untilMeasured = measured.fromEpochMs - Date.now();
  const measureTimer = untilMeasured > 0 ? setTimeout(startMeasuring, untilMeasured) : undefined;
  if (!measureTimer) startMeasuring();
  // A second histogram, reset each window: the whole-phase one above must keep every sample.
  const windowDelay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  windowDelay.enable();
  const windowTimer = setInterval(() => {
    recorder.recordWindowLoopLag(worstLagMs(windowDelay));
    windowDelay.reset();
  }, windowMs);
  windowTimer.unref();
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const startedEpochMs = performance.timeOrigin + entry.startTime;
      if (startedEpochMs + entry.duration >= measured.fromEpochMs && startedEpochMs <= measured.untilEpochMs)
        recorder.recordGcPause(entry.duration);
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      clearTimeout(measureTimer);
      clearInterval(windowTimer);
      windowDelay.disable();
      delay.disable();
      gc.disconnect();
      // Node's histogram holds each sample's full interval in ns: the lag is what exceeds the resolution.
      let previous = 0;
      for (const [percentile, valueNs] of delay.percentiles) {
        const count = Math.round(((percentile - previous) / 100) * delay.count);
        previous = percentile;
        if (count > 0) recorder.recordLoopLag(Math.max(0, valueNs / 1e6 - RESOLUTION_MS), count);
      }
      if (!startUtilization) return;
      const { utilization, idle, active } = performance.eventLoopUtilization(startUtilization);
      if (idle + active >= MIN_UTILIZATION_WINDOW_MS) recorder.recordUtilization(utilization);
    },
  };
}
