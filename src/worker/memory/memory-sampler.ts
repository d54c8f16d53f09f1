/**
 * Samples a memory reading on an interval into a bounded series. Readings never overlap: a tick
 * that finds the previous reading still running is skipped, so a slow source is read less often
 * instead of piling up readings. The timer is unref'd and stopped before a task returns (Piscina
 * pauses a thread's event loop between tasks), and `stop()` waits for a last reading at most
 * `stopWaitMs`, so a phase never ends later than that because of its sampler. When the series
 * reaches its cap, every other sample is dropped, so a long soak keeps an even, bounded timeline.
 */
import type { MemorySample } from '../../shared/phase-metrics';

const MAX_SAMPLES = 600;

/** How long `stop()` waits for a last reading by default. */
const DEFAULT_STOP_WAIT_MS = 2000;

export interface MemorySampler {
  samples: MemorySample[];
  /** Readings that threw (or were still running when the sampler stopped), and the first one's reason. */
  failures: { count: number; firstError: string | null };
  /** Takes one last sample (waiting at most `stopWaitMs` in all) and stops. */
  stop(): Promise<MemorySample[]>;
}

/** Whether `promise` settled within `ms`; the timer is cleared either way. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `read` returns bytes, or null when the source has nothing to say (a gap, not a failure); a read
 * that throws is counted as failed with its message.
 */
export function startMemorySampler(
  read: () => number | null | Promise<number | null>,
  options: { intervalMs: number; originEpochMs: number; stopWaitMs?: number },
): MemorySampler {
  const samples: MemorySample[] = [];
  const failures: MemorySampler['failures'] = { count: 0, firstError: null };
  let reading: Promise<void> | undefined;
  let stopped = false;
  const failed = (reason: string) => {
    failures.count++;
    failures.firstError ??= reason;
  };
  const take = (): Promise<void> => {
    if (reading) return reading;
    const tMs = Date.now() - options.originEpochMs;
    reading = Promise.resolve()
      .then(read)
      .then(
        (bytes) => {
          if (stopped || bytes === null) return;
          samples.push({ tMs, bytes });
          if (samples.length > MAX_SAMPLES) {
            const kept = samples.filter((_, index) => index % 2 === 0);
            samples.splice(0, samples.length, ...kept);
          }
        },
        // A failed reading is a gap in the series, never a reason to stop sampling.
        (error: unknown) => {
          if (!stopped) failed(error instanceof Error ? error.message : String(error));
        },
      )
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
  void take();
  const timer = setInterval(() => void take(), options.intervalMs);
  timer.unref();
  return {
    samples,
    failures,
    async stop() {
      clearInterval(timer);
      const deadlineMs = Date.now() + (options.stopWaitMs ?? DEFAULT_STOP_WAIT_MS);
      // A reading still running is awaited first, then the last one is taken: both within the one bound.
      const inTime =
        (!reading || (await settlesWithin(reading, deadlineMs - Date.now()))) && (await settlesWithin(take(), deadlineMs - Date.now()));
      if (!inTime) failed(`a reading was still running ${options.stopWaitMs ?? DEFAULT_STOP_WAIT_MS} ms after the phase ended`);
      stopped = true;
      return samples;
    },
  };
}
