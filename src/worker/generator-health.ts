/**
 * Watches the generator thread itself: a timer that should fire every 20 ms records how late it
 * fires (event-loop lag), the thread's event-loop utilization over the slice is kept, and its
 * garbage-collection pauses are recorded. A busy or lagging generator sends late and reads replies
 * late: its latencies would measure itself.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { Recorder } from './recorder';

const TICK_MS = 20;

export function watchGeneratorHealth(recorder: Recorder): { stop(): void } {
  const startUtilization = performance.eventLoopUtilization();
  let expected = performance.now() + TICK_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    recorder.recordLoopLag(Math.max(0, now - expected));
    expected = now + TICK_MS;
  }, TICK_MS);
  timer.unref();
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) recorder.recordGcPause(entry.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      clearInterval(timer);
      gc.disconnect();
      recorder.recordUtilization(performance.eventLoopUtilization(startUtilization).utilization);
    },
  };
}
