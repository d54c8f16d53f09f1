/**
 * A shard's exchange with the control of its distributed phase, through Redis: one pipelined round
 * trip writes its tally into the phase's tallies hash (read by the phase job's guard on a control
 * worker), sets the phase's stop when the shard's own conditions stopped it (the first stop wins),
 * and reads the phase's stop.
 */
import type { Redis } from 'ioredis';
import type { AbortTally } from '../../shared/abort-tally';
import { parseStopReason } from '../../shared/phase-stop-reason';
import type { StopReason } from '../../shared/shard-result';
import type { PhaseControl } from '../follow-phase-control';

/** The control keys outlive the phase by a day, as the barrier's do: a retried shard still finds the stop. */
const KEY_TTL_SECONDS = 24 * 3600;

/** The control of shard `shardIndex`, over the phase's keys (`phaseControlKeys`). */
export function redisPhaseControl(redis: Redis, keys: { tallies: string; stop: string }, shardIndex: number): PhaseControl {
  let expiresSet = false;
  return {
    async exchange(tally: AbortTally, ownStop: StopReason | null): Promise<StopReason | null> {
      const pipeline = redis.pipeline().hset(keys.tallies, `s${shardIndex}`, JSON.stringify(tally));
      if (!expiresSet) pipeline.expire(keys.tallies, KEY_TTL_SECONDS);
      if (ownStop) pipeline.set(keys.stop, JSON.stringify(ownStop), 'EX', KEY_TTL_SECONDS, 'NX');
      pipeline.get(keys.stop);
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([error]) => error);
      if (failed) throw failed[0];
      expiresSet = true;
      return parseStopReason((replies.at(-1)?.[1] as string | null | undefined) ?? null);
    },
  };
}
