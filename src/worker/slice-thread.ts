/** Piscina entry: a thin shell over `runSlice`, so the logic stays testable without a thread. */
import { runSlice, type SliceTask } from './run-slice';
import { warmHarness } from './warm-harness';

/** Loads this module and its imports; with `harness` (the default), also warms the request path. */
interface Ping {
  type: 'ping';
  harness?: boolean;
}

export default async function sliceThread(task: SliceTask | Ping) {
  // A ping makes a pool warm before its first phase.
  if (task.type === 'ping') {
    if (task.harness !== false) await warmHarness();
    return 'pong';
  }
  return runSlice(task);
}
