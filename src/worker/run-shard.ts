/**
 * Runs one shard in this process: splits its conversations over up to `maxSlices` threads, samples
 * the harness's RSS and the target's memory on the main thread meanwhile, and merges the slices'
 * results exactly (histograms added) into the shard's result.
 */
import { availableParallelism, hostname } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import type { MemorySample } from '../shared/phase-metrics';
import { mergeShardResults, type ShardResult } from '../shared/shard-result';
import { splitEvenly, type ShardProgress, type ShardTask } from '../shared/shard-task';
import { startMemorySampler } from './memory/memory-sampler';
import { targetMemoryReader } from './memory/read-target-memory';
import type { SliceTask } from './run-slice';
import { defaultThreads } from './worker-pool';

export interface RunShardOptions {
  workerName: string;
  /** Threads this shard may use (default: one per core). */
  maxSlices?: number;
  onProgress?: (progress: ShardProgress) => void;
}

export async function runShard(task: ShardTask, pool: Piscina, options: RunShardOptions): Promise<ShardResult> {
  const startedMs = Date.now();
  const phase = task.phase;
  // A model switch is one sequential conversation; other scenarios spread their conversations.
  const sliceCount = phase.scenario === 'model-switch' ? 1 : Math.max(1, Math.min(task.concurrency, options.maxSlices ?? defaultThreads()));
  const concurrencies = splitEvenly(task.concurrency, sliceCount);
  const firstLoops = concurrencies.map((_, index) => concurrencies.slice(0, index).reduce((sum, count) => sum + count, 0));

  const sampling = { intervalMs: phase.memory.interval, originEpochMs: task.startAtMs };
  const rss = startMemorySampler(() => process.memoryUsage().rss, sampling);
  const readTarget = targetMemoryReader(task.target);
  const targetMemory = readTarget ? startMemorySampler(readTarget, sampling) : undefined;

  const sliceProgress = new Map<number, ShardProgress>();
  const channels = concurrencies.map(() => new MessageChannel());
  channels.forEach((channel) => {
    channel.port1.on('message', ({ sliceIndex, progress }: { sliceIndex: number; progress: ShardProgress }) => {
      sliceProgress.set(sliceIndex, progress);
      const all = [...sliceProgress.values()];
      options.onProgress?.({
        type: 'progress',
        shardIndex: task.shardIndex,
        phaseIndex: task.phaseIndex,
        completed: all.reduce((sum, p) => sum + p.completed, 0),
        errors: all.reduce((sum, p) => sum + p.errors, 0),
        fraction: all.reduce((sum, p) => sum + p.fraction, 0) / sliceCount,
      });
    });
  });

  let results: ShardResult[];
  try {
    results = await Promise.all(
      concurrencies.map((concurrency, sliceIndex) => {
        const port = (channels[sliceIndex] as MessageChannel).port2;
        const slice: SliceTask = {
          type: 'slice',
          task,
          sliceIndex,
          sliceCount,
          concurrency,
          firstLoop: firstLoops[sliceIndex] as number,
          workerName: options.workerName,
          progressPort: port,
        };
        return pool.run(slice, { transferList: [port] }) as Promise<ShardResult>;
      }),
    );
  } finally {
    for (const channel of channels) channel.port1.close();
  }
  const rssSamples = await rss.stop();
  const targetSamples: MemorySample[] = (await targetMemory?.stop()) ?? [];
  const merged = mergeShardResults(results);
  return {
    ...merged,
    shards: [{ shardIndex: task.shardIndex, worker: options.workerName, host: hostname(), node: process.version, cpus: availableParallelism(), threads: sliceCount, attempts: 1, durationMs: Date.now() - startedMs, firstRequestAtMs: merged.firstStartMs }],
    memory: {
      ...merged.memory,
      harnessRss: { [options.workerName]: rssSamples },
      targetSource: task.target.memory.source,
      // A module target lives in the threads: their heaps are its memory.
      target: task.target.memory.source === 'thread-heap' ? merged.memory.threadHeap : targetSamples.length > 0 ? { [options.workerName]: targetSamples } : {},
    },
  };
}
