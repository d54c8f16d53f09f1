/**
 * The Piscina pool that runs slices. From source (jest, tsx) the thread file is TypeScript, which
 * Node 20 cannot load by itself, so threads get tsx as a loader; from dist they load the JS file.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { cgroupCpuQuota } from './cpu-quota';

/**
 * One generator thread per core the process may use: the cores it may run on, fewer under a cgroup
 * CPU quota (at least one; a quota of 1.5 cores gets 2 threads).
 */
export function defaultThreads(): number {
  const cores = availableParallelism();
  const quota = cgroupCpuQuota();
  return quota === null ? cores : Math.max(1, Math.min(cores, Math.ceil(quota)));
}

export function createWorkerPool(options: { threads?: number } = {}): Piscina {
  const threads = options.threads ?? defaultThreads();
  const fromSource = __filename.endsWith('.ts');
  return new Piscina({
    filename: join(__dirname, fromSource ? 'slice-thread.ts' : 'slice-thread.js'),
    minThreads: threads,
    // Shards of one phase run side by side; extra threads start rather than queue a shard behind another.
    maxThreads: Math.max(threads, 16),
    idleTimeout: 60_000,
    execArgv: fromSource ? ['--import', 'tsx'] : [],
  });
}

/**
 * Loads the thread module in every thread now and runs its request path once over a real connection
 * (`touchRequestPath`), so the first phase pays for neither; with `harness`, also warms it to steady
 * speed (`warmHarness`), so that a long-lived worker's first phase starts at once. Without it, a
 * thread warms in its first slice, when its phase needs it.
 */
export async function warmWorkerPool(pool: Piscina, threads: number, harness = true): Promise<void> {
  await Promise.all(Array.from({ length: threads }, () => pool.run({ type: 'ping', harness })));
}
