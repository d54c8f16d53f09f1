/**
 * The in-process executor: runs a phase's shards side by side in this process's thread pool. What
 * `grym-perf run` uses without Redis; the distributed executor gives the same report shape.
 */
import { hostname } from 'node:os';
import { hasAbortConditions } from '../shared/abort-reason';
import { once } from '../shared/close-all';
import { decodeShardTask, type ShardExecutor, type ShardTask } from '../shared/shard-task';
import { createLocalPhaseControl } from './local-phase-control';
import { runShard } from './run-shard';
import { needsHarnessWarmUp } from './needs-harness-warm-up';
import { takePrestartedPool } from './prestarted-pool';
import { createWorkerPool, defaultThreads, warmWorkerPool } from './worker-pool';

/**
 * Lead between handing out a phase's tasks and their common start: every thread has its task by
 * then. Threads are warm (pinged) before it, and a task reached one in under 5 ms here (the first
 * request followed 5-8 ms after the start); 20 ms leaves a loaded machine margin without adding to
 * every run's launch (it was 100 ms, then 50). A thread that gets its task late starts at once.
 */
const START_LEAD_MS = 20;

export interface LocalExecutorOptions {
  threads?: number;
  /**
   * Aborting it (Ctrl-C) stops the running phase gracefully: its shards stop sending, abandon the
   * requests in flight and return what they measured, `stopped` with the abort's reason (a string)
   * or "interrupted". Phases handed out later stop at once.
   */
  stopSignal?: AbortSignal;
}

export function createLocalExecutor(options: LocalExecutorOptions = {}): ShardExecutor {
  const threads = options.threads ?? defaultThreads();
  // The executable may have started this run's threads already, while the CLI loaded.
  const adopted = takePrestartedPool(threads);
  const pool = adopted?.pool ?? createWorkerPool({ threads });
  // A local run is launched for its phases: threads warm their harness before the first phase that
  // needs it (`needsHarnessWarmUp`), rather than delay every run's first request by the warm-up.
  const warm = adopted?.warm ?? warmWorkerPool(pool, threads, false);
  let harnessWarm: Promise<void> | undefined;
  const workerName = `${hostname()}-local`;
  const { stopSignal } = options;
  return {
    async runPhase(data, onProgress) {
      const tasks = data.map(decodeShardTask);
      await warm;
      // Before the start is set: a thread warming after it would start its arrivals late.
      if (tasks.some(needsHarnessWarmUp)) await (harnessWarm ??= warmWorkerPool(pool, threads, true));
      const startAtMs = Date.now() + START_LEAD_MS;
      const maxSlices = Math.max(1, Math.floor(threads / tasks.length));
      // Shards of one phase are judged together and stop together, as in a distributed run.
      const { abort } = (tasks[0] as ShardTask).phase;
      const control = tasks.length > 1 && hasAbortConditions(abort) ? createLocalPhaseControl(abort, tasks.length) : undefined;
      return Promise.all(
        tasks.map((task) =>
          runShard(task, pool, {
            startAtMs,
            workerName,
            maxSlices,
            ...(control ? { control: control.forShard(task.shardIndex) } : {}),
            ...(onProgress ? { onProgress } : {}),
            ...(stopSignal ? { stopSignal } : {}),
          }),
        ),
      );
    },
    close: once(() => warm.catch(() => undefined).then(() => pool.destroy())),
  };
}
