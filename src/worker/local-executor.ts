/**
 * The in-process executor: runs a phase's shards side by side in this process's thread pool. What
 * `grym-perf run` uses without Redis; the distributed executor gives the same report shape.
 */
import { hostname } from 'node:os';
import type { ShardExecutor } from '../shared/shard-task';
import { runShard } from './run-shard';
import { createWorkerPool, defaultThreads, warmWorkerPool } from './worker-pool';

export function createLocalExecutor(options: { threads?: number } = {}): ShardExecutor {
  const threads = options.threads ?? defaultThreads();
  const pool = createWorkerPool({ threads });
  const warm = warmWorkerPool(pool, threads);
  const workerName = `${hostname()}-local`;
  let closing: Promise<void> | undefined;
  return {
    async runPhase(tasks, onProgress) {
      await warm;
      // Shards start together at the tasks' start time; if it passed while threads warmed up, move it.
      const startAtMs = Math.max(tasks[0]?.startAtMs ?? 0, Date.now() + 50);
      const maxSlices = Math.max(1, Math.floor(threads / tasks.length));
      return Promise.all(tasks.map((task) => runShard({ ...task, startAtMs }, pool, { workerName, maxSlices, onProgress })));
    },
    close() {
      closing ??= warm.catch(() => undefined).then(() => pool.destroy());
      return closing;
    },
  };
}
