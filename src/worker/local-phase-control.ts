/**
 * The control of a sharded phase run by the local executor, in memory: the same judgment as a
 * distributed phase's guard (`phaseStopReason` on every shard's latest tally), made at each
 * exchange, and the first stop, phase-wide or one shard's own, handed to every shard.
 */
import type { AbortTally } from '../shared/abort-tally';
import type { Phase } from '../shared/phase-schema';
import { phaseStopReason } from '../shared/phase-stop-reason';
import type { StopReason } from '../shared/shard-result';
import type { PhaseControl } from './follow-phase-control';

/** One control for a phase's `shardCount` shards; `forShard(i)` is what shard i exchanges with. */
export function createLocalPhaseControl(abort: Phase['abort'], shardCount: number): { forShard(shardIndex: number): PhaseControl } {
  const tallies = new Map<number, AbortTally>();
  let stop: StopReason | null = null;
  return {
    forShard: (shardIndex) => ({
      exchange(tally, ownStop) {
        tallies.set(shardIndex, tally);
        stop ??= ownStop ?? phaseStopReason(abort, [...tallies.values()], shardCount, Date.now());
        return Promise.resolve(stop);
      },
    }),
  };
}
