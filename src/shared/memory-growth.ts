import type { MemorySample } from './phase-metrics';

/**
 * Growth of a memory series: the mean of the last three samples minus the mean of the first three
 * (fewer when the series is short), robust to one noisy reading. Null with fewer than two samples.
 */
export function memoryGrowth(samples: readonly MemorySample[]): number | null {
  if (samples.length < 2) return null;
  const edge = Math.min(3, Math.floor(samples.length / 2));
  const mean = (part: readonly MemorySample[]) => part.reduce((sum, sample) => sum + sample.bytes, 0) / part.length;
  return mean(samples.slice(-edge)) - mean(samples.slice(0, edge));
}
