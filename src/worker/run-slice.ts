/**
 * One thread's part of a shard: creates the target, records, runs the scenario and returns a
 * mergeable result. Plain logic, testable without a thread; `slice-thread.ts` is its thread shell.
 * Everything is awaited and every timer cleared before returning: Piscina pauses the thread's
 * event loop between tasks.
 */
import type { MessagePort } from 'node:worker_threads';
import { threadId } from 'node:worker_threads';
import type { MemorySample } from '../shared/phase-metrics';
import { deriveSeed } from '../shared/derive-seed';
import type { ShardProgress, ShardTask } from '../shared/shard-task';
import type { ShardResult, StopReason } from '../shared/shard-result';
import type { LiveTotals } from '../shared/live-totals';
import { watchGeneratorHealth } from './generator-health';
import { heapSnapshotDir, startHeapSnapshots } from './memory/heap-snapshots';
import { startMemorySampler } from './memory/memory-sampler';
import { targetMemoryReader } from './memory/read-target-memory';
import { Recorder } from './recorder';
import { runModelSwitch } from './scenarios/run-model-switch';
import { runOpenLoop } from './scenarios/run-open-loop';
import { runRequests } from './scenarios/run-requests';
import { createShardStopState } from './scenarios/shard-stop';
import { SliceStop } from './scenarios/slice-stop';
import { createTarget } from './targets/create-target';
import { warmHarness } from './warm-harness';

export interface SliceTask {
  type: 'slice';
  task: ShardTask;
  /** Epoch ms at which the phase starts, set by the executor. */
  startAtMs: number;
  sliceIndex: number;
  /** This slice's conversation loops: firstLoop .. firstLoop + concurrency - 1 of the shard's. */
  concurrency: number;
  firstLoop: number;
  /** Label of this worker process, for series names. */
  workerName: string;
  /**
   * The shard's stop state, shared by all its slices and its main thread (`createShardStopState`):
   * when one stops the shard, every slice stops sending. A slice run alone may leave it out.
   */
  stopState?: SharedArrayBuffer;
  progressPort?: MessagePort;
}

/** What a slice posts on its progress port: its progress, and its own stop at once when it stops the shard. */
export type SliceMessage = SliceProgress | SliceStopped;

export interface SliceProgress {
  type: 'progress';
  sliceIndex: number;
  progress: ShardProgress;
  /** The slice's latest failure in words, for a phase-wide stop reason to quote. */
  lastFailure: string | null;
}

interface SliceStopped {
  type: 'stopped';
  sliceIndex: number;
  stopped: StopReason;
}

const PROGRESS_INTERVAL_MS = 250;
/**
 * Totals are taken at most this often (and at the end): encoding three histograms costs the
 * generator thread a little, and workers send progress to Redis at most once a second anyway.
 */
const TOTALS_INTERVAL_MS = 1000;

/** Posts the slice's progress at most every PROGRESS_INTERVAL_MS (`force`: now): done share by requests or time. */
function progressPoster(slice: SliceTask, recorder: Recorder, stop: SliceStop): (force?: boolean) => void {
  const { task, startAtMs } = slice;
  const { phase } = task;
  const { warmupMs, durationMs } = phase.load;
  const switchRequests =
    phase.scenario === 'model-switch' ? phase.switch.cycles * phase.models.length * phase.switch.requestsPerModel : undefined;
  const plannedRequests = task.requests === undefined ? switchRequests : (task.requests * slice.concurrency) / task.concurrency;
  const plannedEndMs = durationMs === undefined ? undefined : startAtMs + warmupMs + durationMs;
  let lastProgressMs = 0;
  let failureTold = false;
  let totals: LiveTotals | undefined;
  return (force = false) => {
    const now = Date.now();
    // The slice's first failure goes out at once: a phase-wide stop reason quotes a failure.
    const firstFailure = !failureTold && stop.hasFailed;
    if (!slice.progressPort || (!force && !firstFailure && now - lastProgressMs < PROGRESS_INTERVAL_MS)) return;
    lastProgressMs = now;
    failureTold ||= firstFailure;
    const { completed, errors } = recorder.counts();
    const byRequests = plannedRequests ? (completed + errors) / plannedRequests : 0;
    const byTime = plannedEndMs ? (now - startAtMs) / (plannedEndMs - startAtMs) : 0;
    const fraction = Math.min(1, Math.max(byRequests, byTime));
    if (force || !totals || now - totals.atMs >= TOTALS_INTERVAL_MS) totals = recorder.totals();
    const message: SliceProgress = {
      type: 'progress',
      sliceIndex: slice.sliceIndex,
      lastFailure: stop.lastFailure,
      progress: {
        type: 'progress',
        shardIndex: task.shardIndex,
        phaseIndex: task.phaseIndex,
        completed,
        errors,
        fraction,
        recent: recorder.recentWindows(),
        totals,
      },
    };
    slice.progressPort.postMessage(message);
  };
}

export async function runSlice(slice: SliceTask): Promise<ShardResult> {
  const port = slice.progressPort;
  const stop = new SliceStop(slice.stopState ?? createShardStopState(), slice.task.phase.abort, (stopped) => {
    const message: SliceStopped = { type: 'stopped', sliceIndex: slice.sliceIndex, stopped };
    port?.postMessage(message);
  });
  try {
    return await runStoppableSlice(slice, stop);
  } finally {
    stop.close();
  }
}

async function runStoppableSlice(slice: SliceTask, stop: SliceStop): Promise<ShardResult> {
  const { task, startAtMs } = slice;
  const phase = task.phase;
  const target = await createTarget(task.target, slice.concurrency, stop.signal);
  const snapshots =
    task.target.kind === 'module' && task.target.heapSnapshots
      ? startHeapSnapshots(heapSnapshotDir(task.runId), `${phase.name}-shard${task.shardIndex}-thread${threadId}`)
      : undefined;
  // A thread not warmed by a ping warms now (once), when its phase needs it.
  await warmHarness(task);
  const waitMs = startAtMs - Date.now();
  if (waitMs > 0) await stop.sleep(waitMs);

  const { warmupMs, durationMs, cooldownMs } = phase.load;
  const measureFromEpochMs = startAtMs + warmupMs;
  const measureUntilEpochMs = durationMs === undefined ? Infinity : measureFromEpochMs + durationMs - cooldownMs;
  // This slice's share of the shard's request log, rounded up so a small log still samples every slice.
  const requestLog = {
    capacity: Math.ceil((task.requestLog * slice.concurrency) / task.concurrency),
    seed: deriveSeed(task.seed, slice.firstLoop, 0x10c),
  };
  const recorder = new Recorder({
    measureFromEpochMs,
    measureUntilEpochMs,
    windowMs: phase.stability.windowMs,
    slo: phase.slo,
    shard: task.shardIndex,
    slice: slice.sliceIndex,
    requestLog,
  });
  const health = watchGeneratorHealth(recorder, phase.stability.windowMs, {
    fromEpochMs: measureFromEpochMs,
    untilEpochMs: measureUntilEpochMs,
  });
  const heap = startMemorySampler(() => process.memoryUsage().heapUsed, { intervalMs: phase.memory.intervalMs, originEpochMs: startAtMs });
  const targetPerCycle: MemorySample[] = [];
  const postProgress = progressPoster(slice, recorder, stop);

  let heapSamples: MemorySample[];
  try {
    const context = {
      task,
      startAtMs,
      concurrency: slice.concurrency,
      firstLoop: slice.firstLoop,
      target,
      recorder,
      stop,
      readTargetMemory: targetMemoryReader(task.target.memory),
      targetPerCycle,
      onRequestDone: () => postProgress(),
    };
    if (phase.scenario === 'model-switch') await runModelSwitch(context);
    else if (phase.load.mode === 'open') await runOpenLoop(context);
    else await runRequests(context);
  } finally {
    health.stop();
    heapSamples = await heap.stop();
    recorder.recordConnections(target.connections?.());
    await target.close();
  }
  postProgress(true);
  const series = `${slice.workerName}/thread-${threadId}`;
  const measuredHeap = heapSamples.filter((sample) => sample.tMs >= warmupMs);
  return recorder.finish(
    {
      threadHeap: { [series]: heapSamples },
      targetPerCycle: targetPerCycle.length > 0 ? { [slice.workerName]: targetPerCycle } : {},
      heapSnapshots: snapshots?.finish(measuredHeap, phase.memory.leakThresholdBytes) ?? [],
    },
    stop.reason,
  );
}
