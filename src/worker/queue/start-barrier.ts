/**
 * The start barrier of a sharded phase: every shard announces itself in Redis, and the last one to
 * arrive sets the common start time, a little in the future so that all shards see it before it
 * comes. Shards therefore begin together (within the poll interval) or fail with a clear error
 * when too few workers took them. A shard that arrives after the start (a retry after a worker
 * died) starts at once, keeping the phase's time origin.
 */
import type { Redis } from 'ioredis';
import { GrymError } from '../../shared/errors';

export interface BarrierOptions {
  /** Redis key prefix (the queue prefix, braces included, keeps keys in one cluster slot). */
  prefix: string;
  runId: string;
  phaseIndex: number;
  phaseName: string;
  shardIndex: number;
  shardCount: number;
  timeoutMs: number;
  /** Lead time between the last arrival and the start: enough for every waiting shard to read it. */
  leadMs?: number;
  pollMs?: number;
}

const KEY_TTL_SECONDS = 24 * 3600;

/** Resolves to the phase's start time (epoch ms) once all shards arrived. */
export async function waitAtStartBarrier(redis: Redis, options: BarrierOptions): Promise<number> {
  const { prefix, runId, phaseIndex, shardCount } = options;
  const leadMs = options.leadMs ?? 200;
  const pollMs = options.pollMs ?? 20;
  const arrivedKey = `${prefix}:barrier:${runId}:p${phaseIndex}:arrived`;
  const startKey = `${prefix}:barrier:${runId}:p${phaseIndex}:start`;
  if (shardCount === 1) {
    const startAtMs = Date.now() + 20;
    await redis.set(startKey, String(startAtMs), 'EX', KEY_TTL_SECONDS, 'NX');
    return Number((await redis.get(startKey)) ?? startAtMs);
  }

  await redis.sadd(arrivedKey, String(options.shardIndex));
  await redis.expire(arrivedKey, KEY_TTL_SECONDS);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const start = await redis.get(startKey);
    if (start !== null) return Number(start);
    if ((await redis.scard(arrivedKey)) >= shardCount) {
      await redis.set(startKey, String(Date.now() + leadMs), 'EX', KEY_TTL_SECONDS, 'NX');
      continue;
    }
    if (Date.now() > deadline) {
      // Leave, so that a later shard does not count this one as present.
      await redis.srem(arrivedKey, String(options.shardIndex));
      const arrived = (await redis.scard(arrivedKey)) + 1;
      throw new GrymError(
        'GRYM_ERR_NO_WORKERS',
        `phase "${options.phaseName}": only ${arrived} of ${shardCount} shards found a worker within ${options.timeoutMs} ms; start more workers (or more --concurrency per worker), or lower the phase's shards`,
        { details: { arrived, shardCount } },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
