/**
 * Waits `ms`, or less when `signal` aborts (the client went away or the mock closes): a generation
 * then stops at once instead of playing its schedule to nobody, as real servers stop.
 *
 * @returns true when the full time passed, false when the wait was cut short.
 */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  // Nothing to wait for (a chunk already due): no timer, which would wait at least a millisecond.
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
