/**
 * The phase-wide judgment of a sharded phase's abort conditions: the shards' tallies merged
 * (`mergeAbortTallies`) and judged by the same `abortReason` a single shard uses. The control of a
 * distributed phase (the phase job's guard, on any control worker) and of a local one (the local
 * executor) both call it.
 */
import { z } from 'zod';
import { abortReason } from './abort-reason';
import { mergeAbortTallies, type AbortTally } from './abort-tally';
import type { Phase } from './phase-schema';
import type { StopReason } from './shard-result';

/** Why the phase must stop, judged on all its shards' tallies at `nowMs` (run clock), or null. */
export function phaseStopReason(
  abort: Phase['abort'],
  tallies: readonly AbortTally[],
  shardCount: number,
  nowMs: number,
): StopReason | null {
  if (tallies.length === 0) return null;
  const { example, ...counts } = mergeAbortTallies(abort, tallies, nowMs);
  const reason = abortReason(abort, counts, example);
  return reason === null ? null : { reason: `${reason}, all ${shardCount} shards together`, atMs: nowMs };
}

/** A stop one shard's own conditions made, as the other shards of its phase (and the report) tell it. */
export function shardStopReason(stop: StopReason, shardIndex: number, shardCount: number, worker: string): StopReason {
  return { reason: `${stop.reason}, on shard ${shardIndex + 1} of ${shardCount} (${worker})`, atMs: stop.atMs };
}

/** A phase's stop as it is kept in Redis (JSON): parsed, since another version may have written it. */
const stopReasonSchema = z.strictObject({ reason: z.string().min(1).max(2000), atMs: z.number().finite() });

/** The stop a Redis value holds, or null when it holds none (or nothing this version reads). */
export function parseStopReason(value: string | null): StopReason | null {
  if (value === null) return null;
  try {
    const parsed = stopReasonSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
