/**
 * Runs one shard in this process: splits its conversations over up to `maxSlices` threads, samples
 * the harness's RSS and the target's memory on the main thread meanwhile, and merges the slices'
 * results exactly (histograms added) into the shard's result.
 */
import { availableParallelism, hostname } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import type { MemorySample } from '../shared/phase-metrics';
import { targetMemoryUnit } from '../shared/resolved-target';
import { mergeShardResults, type ShardInfo, type ShardResult, type StopReason } from '../shared/shard-result';
import { splitEvenly, sumProgress, type ShardProgress, type ShardTask } from '../shared/shard-task';
import { startMachineLoadProbe } from './machine-load';
import { startMemorySampler } from './memory/memory-sampler';
import { targetMemoryReader } from './memory/read-target-memory';
import type { SliceProgress, SliceTask } from './run-slice';
import { spokenDuration } from './scenarios/abort-conditions';
import { createShardStopState, ShardStop } from './scenarios/shard-stop';
import { defaultThreads } from './worker-pool';

export interface RunShardOptions {
  /** Epoch ms at which every shard of the phase starts, set by the executor. */
  startAtMs: number;
  workerName: string;
  /** Threads this shard may use (default: one per core). */
  maxSlices?: number;
  onProgress?: (progress: ShardProgress) => void;
  /** Aborting it terminates the slices' threads at once (a worker handing the shard back): `runShard` then rejects. */
  signal?: AbortSignal;
  /**
   * Aborting it stops the shard gracefully (Ctrl-C on a local run): slices stop sending, requests in
   * flight are abandoned, and the shard returns what it measured, `stopped` with the abort's reason
   * when it is a string, else "interrupted".
   */
  stopSignal?: AbortSignal;
}

/**
 * Stops the shard from its main thread at the phase's time limit (counted from the phase start,
 * warm-up included) or when `stopSignal` aborts; `stopped()` says why, when it was stopped here.
 */
function watchShardStop(
  task: ShardTask,
  options: RunShardOptions,
  state: SharedArrayBuffer,
): { stopped(): StopReason | null; close(): void } {
  const shard = new ShardStop(state);
  let stopped: StopReason | null = null;
  const stop = (reason: string) => {
    if (shard.trip()) stopped = { reason, atMs: Date.now() };
  };
  const { timeLimitMs } = task.phase;
  // setTimeout takes at most 2^31 - 1 ms (about 24 days); a longer delay would fire at once.
  const limitInMs = Math.min(options.startAtMs + timeLimitMs - Date.now(), 2 ** 31 - 1);
  const limit = setTimeout(() => stop(`stopped at its time limit (${spokenDuration(timeLimitMs)})`), limitInMs);
  const onStop = () => stop(typeof options.stopSignal?.reason === 'string' ? options.stopSignal.reason : 'interrupted');
  if (options.stopSignal?.aborted) onStop();
  else options.stopSignal?.addEventListener('abort', onStop, { once: true });
  return {
    stopped: () => stopped,
    close() {
      clearTimeout(limit);
      options.stopSignal?.removeEventListener('abort', onStop);
    },
  };
}

/** One message channel per slice; their progress is summed into the shard's. */
function relaySliceProgress(task: ShardTask, sliceCount: number, onProgress: RunShardOptions['onProgress']): MessageChannel[] {
  const latest = new Map<number, ShardProgress>();
  return Array.from({ length: sliceCount }, () => {
    const channel = new MessageChannel();
    channel.port1.on('message', ({ sliceIndex, progress }: SliceProgress) => {
      latest.set(sliceIndex, progress);
      onProgress?.({
        type: 'progress',
        shardIndex: task.shardIndex,
        phaseIndex: task.phaseIndex,
        ...sumProgress([...latest.values()], sliceCount),
      });
    });
    return channel;
  });
}

/** The shard's conversation loops spread over threads: slice i holds loops firstLoop .. firstLoop + concurrency - 1. */
function planSlices(task: ShardTask, options: RunShardOptions): SliceTask[] {
  // A model switch is one sequential conversation; other scenarios spread their conversations.
  const sliceCount =
    task.phase.scenario === 'model-switch' ? 1 : Math.max(1, Math.min(task.concurrency, options.maxSlices ?? defaultThreads()));
  let firstLoop = 0;
  return splitEvenly(task.concurrency, sliceCount).map((concurrency, sliceIndex) => {
    const slice: SliceTask = {
      type: 'slice',
      task,
      startAtMs: options.startAtMs,
      sliceIndex,
      concurrency,
      firstLoop,
      workerName: options.workerName,
    };
    firstLoop += concurrency;
    return slice;
  });
}

export async function runShard(task: ShardTask, pool: Piscina, options: RunShardOptions): Promise<ShardResult> {
  const startedMs = Date.now();
  const { phase } = task;
  const { startAtMs } = options;
  const stopState = createShardStopState();
  const slices = planSlices(task, options).map((slice) => ({ ...slice, stopState }));
  // Who held the CPU during the shard: this process or others on the machine (for the generator's verdict).
  const machine = startMachineLoadProbe({ worker: options.workerName, host: hostname(), threads: slices.length });
  const stopWatch = watchShardStop(task, options, stopState);
  const sampling = { intervalMs: phase.memory.intervalMs, originEpochMs: startAtMs };
  const rss = startMemorySampler(() => process.memoryUsage().rss, sampling);
  const readTarget = targetMemoryReader(task.target.memory);
  const targetMemory = readTarget ? startMemorySampler(readTarget, sampling) : undefined;

  const channels = relaySliceProgress(task, slices.length, options.onProgress);

  let results: ShardResult[];
  let rssSamples: MemorySample[];
  let targetSamples: MemorySample[];
  try {
    results = await Promise.all(
      slices.map((slice, index) => {
        const port = (channels[index] as MessageChannel).port2;
        return pool.run({ ...slice, progressPort: port }, { transferList: [port], signal: options.signal ?? null }) as Promise<ShardResult>;
      }),
    );
  } finally {
    stopWatch.close();
    for (const channel of channels) channel.port1.close();
    // Stopped even when a slice failed: a long-lived worker must not keep polling the target. Each stop is bounded in time.
    [rssSamples, targetSamples] = await Promise.all([rss.stop(), targetMemory?.stop() ?? []]);
  }
  const merged = mergeShardResults(results);
  // Only the first to trip the shared flag gives a reason: a slice (an abort condition) or this thread (time limit, interrupt).
  const stopped = merged.stopped ?? stopWatch.stopped();
  const source = task.target.memory.source;
  const shard: ShardInfo = {
    shardIndex: task.shardIndex,
    worker: options.workerName,
    host: hostname(),
    node: process.version,
    cpus: availableParallelism(),
    threads: slices.length,
    attempts: 1,
    durationMs: Date.now() - startedMs,
    firstRequestAtMs: merged.firstStartMs,
  };
  return {
    ...merged,
    generator: { ...merged.generator, machines: [machine.stop()] },
    shards: [shard],
    stopped,
    memory: {
      ...merged.memory,
      targetReadFailures: merged.memory.targetReadFailures + (targetMemory?.failures.count ?? 0),
      targetReadError: merged.memory.targetReadError ?? targetMemory?.failures.firstError ?? null,
      harnessRss: { [options.workerName]: rssSamples },
      targetSource: source,
      targetUnit: targetMemoryUnit(task.target.memory),
      // A module target lives in the threads: their heaps are its memory.
      target: source === 'thread-heap' ? merged.memory.threadHeap : targetSamples.length > 0 ? { [options.workerName]: targetSamples } : {},
    },
  };
}
