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
import { memoryGrowth } from '../../shared/memory-growth';
import type { MemorySample } from '../../shared/phase-metrics';

export function heapSnapshotDir(runId: string): string {
  return join(tmpdir(), 'grym-perf-heap', runId);
}

export function startHeapSnapshots(dir: string, label: string): { finish(heapSamples: MemorySample[], thresholdBytes: number): string[] } {
  mkdirSync(dir, { recursive: true });
  const start = writeHeapSnapshot(join(dir, `${label}-start.heapsnapshot`));
  return {
    finish(heapSamples, thresholdBytes) {
      if ((memoryGrowth(heapSamples) ?? 0) > thresholdBytes) return [start, writeHeapSnapshot(join(dir, `${label}-end.heapsnapshot`))];
      rmSync(start, { force: true });
      return [];
    },
  };
}
