/** Piscina entry: a thin shell over `runSlice`, so the logic stays testable without a thread. */
import { runSlice, type SliceTask } from './run-slice';
import { touchRequestPath, warmHarness } from './warm-harness';

/**
 * Loads this module and its imports and runs the request path once; with `harness` (the default),
 * also warms it to steady speed.
 */
interface Ping {
  type: 'ping';
  harness?: boolean;
}

export default async function sliceThread(task: SliceTask | Ping) {
  // A ping makes a pool warm before its first phase.
  if (task.type === 'ping') {
    await (task.harness === false ? touchRequestPath() : warmHarness());
    return 'pong';
  }
  return runSlice(task);
}
