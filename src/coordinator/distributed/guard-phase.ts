/**
 * The guard of a distributed sharded phase: while its shards run, the phase job (on whichever
 * control worker holds it, so the guard needs no CLI and moves to another worker with the job)
 * reads every shard's abort tally from Redis, judges the phase's abort conditions on them all
 * together (`phaseStopReason`: the same judge a lone shard uses on its own counts), and when one
 * holds sets the phase's stop, which every shard reads at its next exchange and obeys. A stop set by
 * a shard's own conditions ends the guard's work the same way.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { abortTallySchema, type AbortTally } from '../../shared/abort-tally-schema';
import { measureClockOffset } from '../../shared/clock-offset';
import type { Phase } from '../../shared/phase-schema';
import { parseStopReason, phaseStopReason } from '../../shared/phase-stop-reason';
import type { StopReason } from '../../shared/shard-result';

/** Between two judgments: with the shards' own exchange interval, a phase stops within about a second of a condition holding. */
const GUARD_INTERVAL_MS = 250;
const KEY_TTL_SECONDS = 24 * 3600;

export interface GuardPhaseOptions {
  /** A connection of the control worker's. */
  redis: Redis;
  /** The phase's control keys (`phaseControlKeys`). */
  keys: { tallies: string; stop: string };
  abort: Phase['abort'];
  shardCount: number;
  /** Shards not finished yet (the phase job's unprocessed children). */
  pendingShards: () => Promise<number>;
  /** Aborted when the control worker stops: the guard returns 'closing' and the job is handed on. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  intervalMs?: number;
}

/** Every shard's latest tally in the hash; a field this version cannot read is left out. */
function parseTallies(fields: Record<string, string>): AbortTally[] {
  return Object.values(fields).flatMap((value) => {
    try {
      const parsed = abortTallySchema.safeParse(JSON.parse(value));
      return parsed.success ? [parsed.data] : [];
    } catch {
      return [];
    }
  });
}

/**
 * Guards the phase until its shards have all finished ('done'), the phase has stopped ('stopped',
 * the stop then in `stop`), or the control worker stops ('closing'). A Redis error skips one
 * judgment: the shards' own conditions still hold meanwhile.
 */
export async function guardPhase(options: GuardPhaseOptions): Promise<{ ended: 'done' | 'stopped' | 'closing'; stop: StopReason | null }> {
  const { redis, keys, signal } = options;
  let offsetMs: number | undefined;
  for (;;) {
    if (signal?.aborted) return { ended: 'closing', stop: null };
    try {
      offsetMs ??= (await measureClockOffset(redis)).offsetMs;
      if ((await options.pendingShards()) === 0) return { ended: 'done', stop: null };
      const replies = (await redis.pipeline().hgetall(keys.tallies).get(keys.stop).exec()) ?? [];
      const [[talliesError, tallies], [stopError, stopValue]] = replies as Array<[Error | null, unknown]> as [
        [Error | null, Record<string, string>],
        [Error | null, string | null],
      ];
      if (talliesError || stopError) throw talliesError ?? stopError;
      const existing = parseStopReason(stopValue);
      if (existing) return { ended: 'stopped', stop: existing };
      const judged = phaseStopReason(options.abort, parseTallies(tallies), options.shardCount, Date.now() + offsetMs);
      if (judged) {
        await redis.set(keys.stop, JSON.stringify(judged), 'EX', KEY_TTL_SECONDS, 'NX');
        // A shard may have stopped the phase a moment before: the stop kept is the first.
        const stop = parseStopReason(await redis.get(keys.stop)) ?? judged;
        options.log?.(`stopped: ${stop.reason}`);
        return { ended: 'stopped', stop };
      }
    } catch {
      // Judged again at the next tick.
    }
    try {
      await sleep(options.intervalMs ?? GUARD_INTERVAL_MS, undefined, signal ? { signal } : {});
    } catch {
      return { ended: 'closing', stop: null };
    }
  }
}
