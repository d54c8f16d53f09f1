/** Piscina entry: a thin shell over `runSlice`, so the logic stays testable without a thread. */
import { runSlice, type SliceTask } from './run-slice';

export default async function sliceThread(task: SliceTask | { type: 'ping' }) {
  // A ping loads this module and its imports, so that a pool is warm before the first phase.
  if (task.type === 'ping') return 'pong';
  return runSlice(task);
}
