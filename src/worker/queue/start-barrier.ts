/**
 * The start barrier of a sharded phase: the distributed executor's way to set the phase's start.
 * Every shard announces itself in Redis, and the last one to arrive sets the common start time, a
 * little in the future so that all shards see it before it comes. Shards therefore begin together
 * (within the poll interval) or fail with a clear error when too few workers took them. A shard
 * that arrives after the start (a retry after a worker died) starts at once, keeping the phase's
 * time origin.
 *
 * Workers' clocks disagree, so the start is kept on the run's clock, Redis `TIME`: each shard
 * measures its worker's offset from it on arrival (`measureClockOffset`), writes and reads the
 * start on that clock, and gets it back on its own, with the offset, so that its results can be
 * moved to the run's clock (`runClockResult`) and windows of all shards line up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { measureClockOffset } from '../../shared/clock-offset';
import { BarrierTimeoutError } from '../../shared/errors';
import { barrierKeys, type QueueLayout } from '../../shared/queue-layout';

export interface BarrierOptions {
  layout: QueueLayout;
  runId: string;
  phaseIndex: number;
  phaseName: string;
  shardIndex: number;
  shardCount: number;
  timeoutMs: number;
  /** Aborted when the worker hands the shard back: the shard leaves the barrier and the wait rejects. */
  signal?: AbortSignal;
}

const KEY_TTL_SECONDS = 24 * 3600;
/** Between the last arrival and the start: enough for every waiting shard to read it (it polls every POLL_MS). */
const LEAD_MS = 200;
/** A lone shard only needs its own threads to have the task. */
const LONE_LEAD_MS = 20;
const POLL_MS = 20;

/** Where the phase starts, on this worker's clock, and the worker's clock offset that says it. */
export interface BarrierStart {
  /** Epoch ms on this process's clock. */
  startAtMs: number;
  /** The run's clock minus this process's clock, whole ms. */
  clockOffsetMs: number;
  /** The round trip the offset was measured over: it is known to within half of it. */
  roundTripMs: number;
}

/** Resolves to the phase's start once all shards arrived. */
export async function waitAtStartBarrier(redis: Redis, options: BarrierOptions): Promise<BarrierStart> {
  const { shardCount } = options;
  const keys = barrierKeys(options.layout, options.runId, options.phaseIndex);
  const { offsetMs: clockOffsetMs, roundTripMs } = await measureClockOffset(redis);
  const started = (runClockMs: number): BarrierStart => ({ startAtMs: runClockMs - clockOffsetMs, clockOffsetMs, roundTripMs });
  const claimStart = async (leadMs: number) => {
    await redis.set(keys.start, String(Date.now() + clockOffsetMs + leadMs), 'EX', KEY_TTL_SECONDS, 'NX');
    return started(Number(await redis.get(keys.start)));
  };
  if (shardCount === 1) return claimStart(LONE_LEAD_MS);

  await redis.sadd(keys.arrived, String(options.shardIndex));
  await redis.expire(keys.arrived, KEY_TTL_SECONDS);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const start = await redis.get(keys.start);
    if (start !== null) return started(Number(start));
    if ((await redis.scard(keys.arrived)) >= shardCount) return claimStart(LEAD_MS);
    if (Date.now() > deadline) {
      // Leave, so that a later shard does not count this one as present.
      await redis.srem(keys.arrived, String(options.shardIndex));
      throw new BarrierTimeoutError(options.phaseName, (await redis.scard(keys.arrived)) + 1, shardCount, options.timeoutMs);
    }
    try {
      await sleep(POLL_MS, undefined, options.signal ? { signal: options.signal } : {});
    } catch (error) {
      // Handed back: leave before the job goes back to wait, so the worker that takes it arrives afresh.
      await redis.srem(keys.arrived, String(options.shardIndex));
      throw error;
    }
  }
}
