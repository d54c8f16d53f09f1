/**
 * One thread's part of a shard: creates the target, records, runs the scenario and returns a
 * mergeable result. Plain logic, testable without a thread; `slice-thread.ts` is its thread shell.
 * Everything is awaited and every timer cleared before returning: Piscina pauses the thread's
 * event loop between tasks.
 */
import type { MessagePort } from 'node:worker_threads';
import { threadId } from 'node:worker_threads';
import type { MemorySample } from '../shared/phase-metrics';
import type { ShardProgress, ShardTask } from '../shared/shard-task';
import type { ShardResult } from '../shared/shard-result';
import { heapSnapshotDir, startHeapSnapshots } from './memory/heap-snapshots';
import { startMemorySampler } from './memory/memory-sampler';
import { targetMemoryReader } from './memory/read-target-memory';
import { Recorder } from './recorder';
import { runModelSwitch } from './scenarios/run-model-switch';
import { runOpenLoop } from './scenarios/run-open-loop';
import { runRequests } from './scenarios/run-requests';
import { watchGeneratorHealth } from './generator-health';
import { createTarget } from './targets/create-target';

export interface SliceTask {
  type: 'slice';
  task: ShardTask;
  sliceIndex: number;
  sliceCount: number;
  /** This slice's conversation loops: firstLoop .. firstLoop + concurrency - 1 of the shard's. */
  concurrency: number;
  firstLoop: number;
  /** Label of this worker process, for series names. */
  workerName: string;
  progressPort?: MessagePort;
}

const PROGRESS_INTERVAL_MS = 250;

export async function runSlice(slice: SliceTask): Promise<ShardResult> {
  const { task } = slice;
  const phase = task.phase;
  const snapshots = task.target.heapSnapshots ? startHeapSnapshots(heapSnapshotDir(task.runId), `${phase.name}-shard${task.shardIndex}-thread${threadId}`) : undefined;
  const waitMs = task.startAtMs - Date.now();
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));

  const measureFromEpochMs = task.startAtMs + phase.load.warmup;
  const measureUntilEpochMs = phase.load.duration === undefined ? Infinity : measureFromEpochMs + phase.load.duration - phase.load.cooldown;
  const recorder = new Recorder({ measureFromEpochMs, measureUntilEpochMs, windowMs: phase.stability.window, requestedConcurrency: slice.concurrency, slo: phase.slo });
  const health = watchGeneratorHealth(recorder);
  const target = createTarget(task.target, slice.concurrency);
  const heap = startMemorySampler(() => process.memoryUsage().heapUsed, { intervalMs: phase.memory.interval, originEpochMs: task.startAtMs });
  const targetPerCycle: MemorySample[] = [];
  const plannedRequests = (task.requests === undefined ? undefined : (task.requests * slice.concurrency) / task.concurrency) ?? (phase.scenario === 'model-switch' ? phase.switch.cycles * phase.models.length * phase.switch.requestsPerModel : undefined);
  const plannedEndMs = phase.load.duration === undefined ? undefined : task.startAtMs + phase.load.warmup + phase.load.duration;
  let lastProgressMs = 0;
  const postProgress = (force = false) => {
    const now = Date.now();
    if (!slice.progressPort || (!force && now - lastProgressMs < PROGRESS_INTERVAL_MS)) return;
    lastProgressMs = now;
    const { completed, errors } = recorder.counts();
    const byRequests = plannedRequests ? (completed + errors) / plannedRequests : 0;
    const byTime = plannedEndMs ? (now - task.startAtMs) / (plannedEndMs - task.startAtMs) : 0;
    const progress: ShardProgress = { type: 'progress', shardIndex: task.shardIndex, phaseIndex: task.phaseIndex, completed, errors, fraction: Math.min(1, Math.max(byRequests, byTime)) };
    slice.progressPort.postMessage({ sliceIndex: slice.sliceIndex, progress });
  };

  try {
    const context = {
      task,
      sliceIndex: slice.sliceIndex,
      sliceCount: slice.sliceCount,
      concurrency: slice.concurrency,
      firstLoop: slice.firstLoop,
      target,
      recorder,
      readTargetMemory: targetMemoryReader(task.target),
      targetPerCycle,
      onRequestDone: () => postProgress(),
    };
    if (phase.scenario === 'model-switch') await runModelSwitch(context);
    else if (phase.load.mode === 'open') await runOpenLoop(context);
    else await runRequests(context);
  } finally {
    health.stop();
    await target.close();
  }
  postProgress(true);
  const heapSamples = await heap.stop();
  const series = `${slice.workerName}/thread-${threadId}`;
  return recorder.finish({
    threadHeap: { [series]: heapSamples },
    targetPerCycle: targetPerCycle.length > 0 ? { [slice.workerName]: targetPerCycle } : {},
    heapSnapshots: snapshots?.finish(heapSamples.filter((sample) => sample.tMs >= phase.load.warmup), phase.memory.leakThreshold) ?? [],
  });
}
