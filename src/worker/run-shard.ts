/**
 * Runs one shard in this process: splits its conversations over up to `maxSlices` threads, samples
 * the harness's RSS and the target's memory on the main thread meanwhile, and merges the slices'
 * results exactly (histograms added) into the shard's result.
 */
import { availableParallelism, hostname } from 'node:os';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import type { MemorySample } from '../shared/phase-metrics';
import { targetMemoryUnit } from '../shared/resolved-target';
import { spokenDuration } from '../shared/abort-reason';
import { abortRateSlotMs } from '../shared/abort-tally';
import { mergeShardResults, type ShardInfo, type ShardResult, type StopReason } from '../shared/shard-result';
import { splitEvenly, sumProgress, type ShardProgress, type ShardTask } from '../shared/shard-task';
import { addTotals, shiftTotals, type LiveTotals } from '../shared/live-totals';
import { startMachineLoadProbe } from './machine-load';
import { startMemorySampler } from './memory/memory-sampler';
import { targetMemoryReader } from './memory/read-target-memory';
import { followPhaseControl, type PhaseControl, type PhaseControlFollower } from './follow-phase-control';
import { runClockResult } from './run-clock-result';
import type { SliceMessage, SliceTask } from './run-slice';
import { createShardStopState, ShardStop } from './scenarios/shard-stop';
import { defaultThreads } from './worker-pool';

export interface RunShardOptions {
  /** Epoch ms (this process's clock) at which every shard of the phase starts, set by the executor. */
  startAtMs: number;
  /**
   * The run's clock minus this process's clock, in whole ms (what the start barrier measured against
   * Redis `TIME`; 0 for a local run). The result's epoch times are given on the run's clock.
   */
  clockOffsetMs?: number;
  /** The control of a sharded phase: this shard reports to it and stops when the phase stops (see `followPhaseControl`). */
  control?: PhaseControl;
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
  tellStop: (stop: StopReason) => void,
): { stopped(): StopReason | null; close(): void } {
  const shard = new ShardStop(state);
  let stopped: StopReason | null = null;
  const stop = (reason: string) => {
    if (!shard.trip()) return;
    stopped = { reason, atMs: shard.nowMs() };
    tellStop(stopped);
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

/**
 * The shard's progress: its slices' summed (windows and totals moved to the run's clock), and its stop as soon
 * as it is known (`tellStop`), so that live views say the phase is stopping before it has ended.
 */
function shardProgressRelay(task: ShardTask, sliceCount: number, options: RunShardOptions) {
  const latest = new Map<number, ShardProgress>();
  const offsetMs = options.clockOffsetMs ?? 0;
  let stopped: StopReason | null = null;
  // The slices' totals merged, again only when one of them took new totals (about once a second each, not at every report).
  let merged: { key: string; totals: LiveTotals } | undefined;
  const totalsOf = (parts: ShardProgress[]): LiveTotals | undefined => {
    const totals = parts.flatMap((part) => (part.totals ? [part.totals] : []));
    // Totals only once every slice has some: a missing one would leave them short.
    if (totals.length < sliceCount) return undefined;
    const key = totals.map((part) => part.atMs).join();
    if (merged?.key !== key) merged = { key, totals: shiftTotals(addTotals(totals), offsetMs) };
    return merged.totals;
  };
  const report = () => {
    const parts = [...latest.values()];
    const { recent, ...sum } = sumProgress(parts, sliceCount);
    const totals = totalsOf(parts);
    options.onProgress?.({
      type: 'progress',
      shardIndex: task.shardIndex,
      phaseIndex: task.phaseIndex,
      ...sum,
      ...(recent ? { recent: recent.originEpochMs === 0 ? recent : { ...recent, originEpochMs: recent.originEpochMs + offsetMs } } : {}),
      ...(totals ? { totals } : {}),
      ...(stopped ? { stopped } : {}),
    });
  };
  return {
    slice(sliceIndex: number, progress: ShardProgress) {
      latest.set(sliceIndex, progress);
      report();
    },
    /** The first stop the shard learns of (the one its result names, bar a race between two). */
    tellStop(stop: StopReason) {
      if (stopped) return;
      stopped = stop;
      report();
    },
  };
}

/** One message channel per slice: progress to the relay, latest failures and own stops to the phase's control. */
function relaySliceMessages(
  sliceCount: number,
  relay: ReturnType<typeof shardProgressRelay>,
  control: PhaseControlFollower | undefined,
): MessageChannel[] {
  return Array.from({ length: sliceCount }, () => {
    const channel = new MessageChannel();
    channel.port1.on('message', (message: SliceMessage) => relaySliceMessage(message, relay, control));
    return channel;
  });
}

function relaySliceMessage(message: SliceMessage, relay: ReturnType<typeof shardProgressRelay>, control: PhaseControlFollower | undefined) {
  if (message.type === 'stopped') {
    control?.ownStop(message.stopped);
    // A sharded phase tells it with the shard named, as its report will.
    relay.tellStop(control?.ownStopReason() ?? message.stopped);
    return;
  }
  control?.noteFailure(message.lastFailure);
  relay.slice(message.sliceIndex, message.progress);
}

/**
 * Relays the messages a slice posted before its result that have not been dispatched yet: its last
 * progress (its final totals) travels on its own port and may come after the result, which would
 * close the port on it. A slice posts it before returning, so it is queued by then.
 */
function drainSliceMessages(channels: MessageChannel[], relay: ReturnType<typeof shardProgressRelay>, control?: PhaseControlFollower) {
  for (const channel of channels) {
    for (let queued = receiveMessageOnPort(channel.port1); queued; queued = receiveMessageOnPort(channel.port1))
      relaySliceMessage(queued.message as SliceMessage, relay, control);
  }
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
  const clockOffsetMs = options.clockOffsetMs ?? 0;
  const stopState = createShardStopState({ clockOffsetMs, controlled: options.control !== undefined });
  const slices = planSlices(task, options).map((slice) => ({ ...slice, stopState }));
  // Who held the CPU during the shard: this process or others on the machine (for the generator's verdict).
  const machine = startMachineLoadProbe({ worker: options.workerName, host: hostname(), threads: slices.length });
  const relay = shardProgressRelay(task, slices.length, options);
  const stopWatch = watchShardStop(task, options, stopState, relay.tellStop);
  const sampling = { intervalMs: phase.memory.intervalMs, originEpochMs: startAtMs };
  const rss = startMemorySampler(() => process.memoryUsage().rss, sampling);
  const readTarget = targetMemoryReader(task.target.memory);
  const targetMemory = readTarget ? startMemorySampler(readTarget, sampling) : undefined;

  const control = options.control
    ? followPhaseControl(options.control, new ShardStop(stopState), {
        shardIndex: task.shardIndex,
        shardCount: task.shardCount,
        workerName: options.workerName,
        slotMs: abortRateSlotMs(phase.abort),
        onStop: relay.tellStop,
      })
    : undefined;
  const channels = relaySliceMessages(slices.length, relay, control);

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
    // A slice's own stop, in case its message lost the race with its result (they travel on different ports).
    drainSliceMessages(channels, relay, control);
    const sliceStop = results.find((result) => result.stopped !== null)?.stopped;
    if (sliceStop) control?.ownStop(sliceStop);
  } finally {
    stopWatch.close();
    for (const channel of channels) channel.port1.close();
    // Stopped even when a slice failed: a long-lived worker must not keep polling the target. Each stop is bounded in time.
    [rssSamples, targetSamples] = await Promise.all([rss.stop(), targetMemory?.stop() ?? [], control?.close()]);
  }
  const merged = mergeShardResults(results);
  // Only the first to trip the shared flag gives a reason: a slice (an abort condition; in a sharded phase as the
  // other shards were told it), this thread (time limit, interrupt), or the phase's control.
  const stopped = (merged.stopped && (control?.ownStopReason() ?? merged.stopped)) ?? stopWatch.stopped() ?? control?.stopped() ?? null;
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
    clockOffsetMs,
  };
  return runClockResult(
    {
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
        target:
          source === 'thread-heap' ? merged.memory.threadHeap : targetSamples.length > 0 ? { [options.workerName]: targetSamples } : {},
      },
    },
    clockOffsetMs,
  );
}
