/**
 * A local run's worker pool, started by the executable before the rest of the command line loads,
 * so that its threads boot (~170 ms here) while the main thread loads the CLI (~220 ms) instead of
 * after it. The local executor adopts it when it asks for the same number of threads; a pool no
 * executor adopted (a plan that did not parse, a usage error) is destroyed when the CLI ends.
 */
import type { Piscina } from 'piscina';
import { createWorkerPool, defaultThreads, warmWorkerPool } from './worker-pool';

interface Prestarted {
  pool: Piscina;
  threads: number;
  /** The threads have loaded their module and touched the request path (harness not warmed). */
  warm: Promise<void>;
}

let prestarted: Prestarted | undefined;

/** Starts the pool now (once); `threads` as the run will ask for them, the default when not given. */
export function prestartWorkerPool(threads = defaultThreads()): void {
  if (prestarted) return;
  const pool = createWorkerPool({ threads });
  const warm = warmWorkerPool(pool, threads, false);
  // Awaited by the executor that adopts it; a pool nobody adopts is destroyed, its pings then fail.
  warm.catch(() => undefined);
  prestarted = { pool, threads, warm };
}

/** The prestarted pool, when it has `threads` threads; the caller owns it from then on. */
export function takePrestartedPool(threads: number): Omit<Prestarted, 'threads'> | undefined {
  if (prestarted?.threads !== threads) return undefined;
  const { pool, warm } = prestarted;
  prestarted = undefined;
  return { pool, warm };
}

/** Destroys a prestarted pool that no executor adopted. */
export async function releasePrestartedPool(): Promise<void> {
  const left = prestarted;
  prestarted = undefined;
  await left?.pool.destroy();
}
