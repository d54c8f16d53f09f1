/** Piscina entry: a thin shell over `runSlice`, so the logic stays testable without a thread. */
import { runSlice, type SliceTask } from './run-slice';
import { warmHarness } from './warm-harness';

export default async function sliceThread(task: SliceTask | { type: 'ping' }) {
  // A ping loads this module and its imports and warms the request path, so that a pool is warm before the first phase.
  if (task.type === 'ping') {
    await warmHarness();
    return 'pong';
  }
  return runSlice(task);
}
