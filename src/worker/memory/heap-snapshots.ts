/**
 * V8 heap snapshots of a worker thread for a module target: one at the phase's start, and one at
 * its end when the thread's heap grew past the leak threshold, so the pair can be compared in
 * Chrome DevTools to find what was retained. When the heap did not grow, the start one is removed.
 * Writing a snapshot pauses the thread: use this to hunt a leak, not while measuring latency.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import type { MemorySample } from '../../shared/phase-metrics';

export function heapSnapshotDir(runId: string): string {
  return join(tmpdir(), 'grym-perf-heap', runId);
}

function growthBytes(samples: MemorySample[]): number {
  if (samples.length < 2) return 0;
  const edge = Math.min(3, Math.floor(samples.length / 2));
  const mean = (part: MemorySample[]) => part.reduce((sum, sample) => sum + sample.bytes, 0) / part.length;
  return mean(samples.slice(-edge)) - mean(samples.slice(0, edge));
}

export function startHeapSnapshots(dir: string, label: string): { finish(heapSamples: MemorySample[], thresholdBytes: number): string[] } {
  mkdirSync(dir, { recursive: true });
  const start = writeHeapSnapshot(join(dir, `${label}-start.heapsnapshot`));
  return {
    finish(heapSamples, thresholdBytes) {
      if (growthBytes(heapSamples) > thresholdBytes) return [start, writeHeapSnapshot(join(dir, `${label}-end.heapsnapshot`))];
      rmSync(start, { force: true });
      return [];
    },
  };
}
