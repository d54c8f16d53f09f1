/**
 * Samples a memory reading on an interval into a bounded series. The timer is unref'd and stopped
 * before a task returns (Piscina pauses a thread's event loop between tasks); when the series
 * reaches its cap, every other sample is dropped, so a long soak keeps an even, bounded timeline.
 */
import type { MemorySample } from '../../shared/phase-metrics';

const MAX_SAMPLES = 600;

export interface MemorySampler {
  samples: MemorySample[];
  /** Takes one last sample and stops. */
  stop(): Promise<MemorySample[]>;
}

export function startMemorySampler(read: () => number | null | Promise<number | null>, options: { intervalMs: number; originEpochMs: number }): MemorySampler {
  const samples: MemorySample[] = [];
  let pending: Promise<void> = Promise.resolve();
  const take = () => {
    pending = pending.then(async () => {
      const tMs = Date.now() - options.originEpochMs;
      const bytes = await read();
      if (bytes === null) return;
      samples.push({ tMs, bytes });
      if (samples.length > MAX_SAMPLES) {
        const kept = samples.filter((_, index) => index % 2 === 0);
        samples.splice(0, samples.length, ...kept);
      }
    });
  };
  take();
  const timer = setInterval(take, options.intervalMs);
  timer.unref();
  return {
    samples,
    async stop() {
      clearInterval(timer);
      take();
      await pending;
      return samples;
    },
  };
}
