/**
 * What one shard's abort conditions have counted, as it reports it to its phase's control, and how
 * the tallies of all shards of a phase add up to the counts the conditions judge phase-wide.
 *
 * Times are epoch ms on the run's clock (Redis `TIME`, each worker's offset from it measured at the
 * start barrier), so that one shard's times compare with another's.
 *
 * - The error rate adds exactly: every shard counts requests and failures in time slots of
 *   `errorRate.window / ABORT_RATE_SLOTS` on the run's clock, so slot k of one shard is slot k of
 *   every other; the phase's window is the sum of the last ABORT_RATE_SLOTS slots.
 * - A run of consecutive failures is phase-wide only if no request anywhere broke it. A shard's run
 *   counts when it began after the latest request of any shard that broke such a run (a success;
 *   for connection failures, any request that reached the server); runs that interleave with
 *   another shard's successes count for nothing. The sum is therefore never more than the
 *   failures that truly came one after the other, so it never stops a phase that should go on; it
 *   is judged on what each shard last reported (a few hundred ms old).
 */
import type { AbortCounts } from './abort-reason';
import type { AbortTally } from './abort-tally-schema';
import type { Phase } from './phase-schema';

/** The error-rate window is cut into this many slots; the rate is read over the last ones. */
export const ABORT_RATE_SLOTS = 10;

export type { AbortTally };

/** Length of an error-rate slot for a phase's conditions; undefined when the error rate is off. */
export function abortRateSlotMs(abort: Phase['abort']): number | undefined {
  return abort.errorRate ? abort.errorRate.windowMs / ABORT_RATE_SLOTS : undefined;
}

/** A run of `run` that began at `fromMs` counts when it began after every breaker; else nothing. */
function unbrokenRun(run: number, fromMs: number | null, latestBreakerMs: number): number {
  return run > 0 && fromMs !== null && fromMs > latestBreakerMs ? run : 0;
}

/** The counts the conditions judge, from the tallies of every shard of a phase, as of `nowMs` (run clock). */
export function mergeAbortTallies(
  abort: Phase['abort'],
  tallies: readonly AbortTally[],
  nowMs: number,
): AbortCounts & { example: string | null } {
  const latest = (pick: (tally: AbortTally) => number | null) => Math.max(-Infinity, ...tallies.map((tally) => pick(tally) ?? -Infinity));
  const lastReachedMs = latest((tally) => tally.lastReachedMs);
  const lastOkMs = latest((tally) => tally.lastOkMs);
  let connectionRun = 0;
  let failureRun = 0;
  for (const tally of tallies) {
    connectionRun += unbrokenRun(tally.connectionRun, tally.connectionRunFromMs, lastReachedMs);
    failureRun += unbrokenRun(tally.failureRun, tally.failureRunFromMs, lastOkMs);
  }
  let window: AbortCounts['window'] = null;
  const slotMs = abortRateSlotMs(abort);
  if (slotMs !== undefined) {
    const currentSlot = Math.floor(nowMs / slotMs);
    window = { requests: 0, failures: 0 };
    for (const [slot, requests, failures] of tallies.flatMap((tally) => tally.slots)) {
      if (slot <= currentSlot - ABORT_RATE_SLOTS || slot > currentSlot) continue;
      window.requests += requests;
      window.failures += failures;
    }
  }
  // The most recent report that saw a failure: what the reason quotes.
  const example = [...tallies].sort((a, b) => b.asOfMs - a.asOfMs).find((tally) => tally.lastFailure !== null)?.lastFailure ?? null;
  return { connectionRun, failureRun, window, example };
}
