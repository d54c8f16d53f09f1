/**
 * Runs every cleanup step in order, even when one fails (as BullMQ's `close()` does), so that a
 * failing step never leaves connections or threads behind. Resolves when all have run.
 */
export async function closeAll(steps: ReadonlyArray<() => unknown>): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch {
      // the next step still runs: a half-closed process is worse than a missed error here
    }
  }
}

/** Makes `close` idempotent: the first call runs it, later calls get the same promise. */
export function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}
