/**
 * Whether a phase needs the harness warmed before it (see `warm-harness.ts`). Apart from the
 * warm-up itself, so that a run's main thread can ask without loading the request path.
 */
import type { ShardTask } from '../shared/shard-task';

/** Time the warm-up takes per thread: V8 optimises the functions it runs thousands of times. */
export const HARNESS_WARM_MS = 200;

/** A phase of at most this many requests is over before its windows could tell a cold start from a steady one. */
const SMALL_PHASE_REQUESTS = 100;

/**
 * Not when the phase's own warm-up is at least as long (its unmeasured requests warm the same
 * path), nor when it is a handful of requests, for which the warm-up would cost more time than
 * the phase (a one-request run starts at once).
 */
export function needsHarnessWarmUp(task: ShardTask): boolean {
  if (task.phase.load.warmupMs >= HARNESS_WARM_MS) return false;
  return task.requests === undefined || task.requests > SMALL_PHASE_REQUESTS;
}
