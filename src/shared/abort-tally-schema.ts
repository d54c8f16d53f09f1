/**
 * The shape of a shard's abort tally as it travels through Redis, checked where the phase's guard
 * reads it. Apart from \`abort-tally.ts\`, so that worker threads, which only write tallies, do not
 * load zod (~60 ms of a thread's start).
 */
import { z } from 'zod';
import { ABORT_RATE_SLOTS } from './abort-tally';

const epochMs = z.number().finite().nullable();
const count = z.number().int().min(0);

export const abortTallySchema = z.strictObject({
  /** When the shard read its counts (run clock). */
  asOfMs: z.number().finite(),
  connectionRun: count,
  /** When the current run of connection failures began (its first failure); null with no run. */
  connectionRunFromMs: epochMs,
  /** The latest request that reached the server (a success, or a failure after connecting). */
  lastReachedMs: epochMs,
  failureRun: count,
  failureRunFromMs: epochMs,
  /** The latest successful request. */
  lastOkMs: epochMs,
  /** Error-rate slots as [slot, requests, failures], slot = floor(run clock ms / slot length); empty when the rate is off. */
  slots: z.array(z.tuple([z.number().int(), count, count])).max(ABORT_RATE_SLOTS),
  /** The shard's latest failure, as a stop reason quotes it ("http_500: model crashed"); null before any. */
  lastFailure: z.string().max(400).nullable(),
});

export type AbortTally = z.output<typeof abortTallySchema>;
