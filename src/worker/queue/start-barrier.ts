/**
 * The start barrier of a sharded phase: the distributed executor's way to set the phase's start.
 * Every shard announces itself in Redis, and the last one to arrive sets the common start time, a
 * little in the future so that all shards learn it before it comes, and announces it on the
 * barrier channel (`barrier-channel.ts`), where the waiting shards hear it: they send no command
 * while they wait, beyond a read of the start every RECHECK_MS in case an announcement was lost.
 * Shards therefore begin together or fail with a clear error when too few workers took them. A
 * shard that arrives after the start (a retry after a worker died) starts at once, keeping the
 * phase's time origin.
 *
 * Workers' clocks disagree, so the start is kept on the run's clock, Redis `TIME`: each shard
 * measures its worker's offset from it on arrival (`measureClockOffset`), writes and reads the
 * start on that clock, and gets it back on its own, with the offset, so that its results can be
 * moved to the run's clock (`runClockResult`) and windows of all shards line up.
 *
 * Nothing here waits past the timeout for Redis: every step is raced against the deadline and the
 * abort signal, and leaving the barrier afterwards waits LEAVE_WAIT_MS at most (not at all when the
 * connection knows Redis is gone).
 */
import type { Redis } from 'ioredis';
import { measureClockOffset } from '../../shared/clock-offset';
import { BarrierTimeoutError } from '../../shared/errors';
import { barrierKeys, type QueueLayout } from '../../shared/queue-layout';
import { announceStart, type BarrierChannel } from './barrier-channel';

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
/**
 * Between the last arrival and the start: enough for every waiting shard to hear it, then to hand
 * the task to its threads and for them to set up (the target, a first warm-up) before the start.
 * Hearing it, measured on a shared 2-core machine (load average 4-5), 2 shards per process, from
 * the start being set to each waiting shard knowing it: 8 shards (6 rounds) median 7 ms, max 22 ms;
 * 16 shards (8 rounds) median 11 ms, max 43 ms. The set-up after it is what needs the rest: in the
 * many-workers test (16 shards over 8 workers, load average 2-14), the latest shard's first request
 * came 60-241 ms after the start with 100 ms (4 runs), 33-109 ms with 150 ms (3 runs), 40-48 ms
 * with 200 ms (2 runs). Polling every 20 ms needed 200.
 */
export const START_LEAD_MS = 150;
/** A lone shard only needs its own threads to have the task. */
const LONE_LEAD_MS = 20;
/**
 * How often a waiting shard reads the start itself, in case its announcement was lost (a shard
 * that set the start and died before announcing it, a dropped connection not yet noticed): two
 * commands a second, where the announcement alone would leave that shard waiting to the timeout.
 */
export const RECHECK_MS = 1000;
/** How long leaving the barrier (after a timeout or a hand-back) may wait for a Redis that does not answer though connected. */
const LEAVE_WAIT_MS = 1000;

/** Where the phase starts, on this worker's clock, and the worker's clock offset that says it. */
export interface BarrierStart {
  /** Epoch ms on this process's clock. */
  startAtMs: number;
  /** The run's clock minus this process's clock, whole ms. */
  clockOffsetMs: number;
  /** The round trip the offset was measured over: it is known to within half of it. */
  roundTripMs: number;
}

/** What ends a wait: the start heard on the channel, the deadline, or the hand-back. */
type Wake = { type: 'start'; runClockMs: number } | { type: 'timeout' } | { type: 'abort' };

/** Thrown through a step that a wake cut short. */
class Woken {
  constructor(readonly wake: Wake) {}
}

/** What a step that may be cut short resolves to once it has run. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function abortError(signal: AbortSignal | undefined): Error {
  return Object.assign(new Error('the shard left the start barrier: it was handed back'), {
    name: 'AbortError',
    code: 'ABORT_ERR',
    cause: signal?.reason,
  });
}

/**
 * Resolves to the phase's start once all shards arrived, on this worker's clock. `redis` carries
 * the barrier's few commands; `channel` is the worker's subscription to the barrier channel.
 */
export async function waitAtStartBarrier(redis: Redis, channel: BarrierChannel, options: BarrierOptions): Promise<BarrierStart> {
  const { shardCount, signal, layout } = options;
  const keys = barrierKeys(layout, options.runId, options.phaseIndex);
  const member = String(options.shardIndex);

  let wake: (reason: Wake) => void = () => undefined;
  const woken = new Promise<Wake>((resolve) => (wake = resolve));
  const deadline = setTimeout(() => wake({ type: 'timeout' }), options.timeoutMs);
  const onAbort = () => wake({ type: 'abort' });
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  const cleanups: Array<() => void> = [() => clearTimeout(deadline), () => signal?.removeEventListener('abort', onAbort)];
  /** `step`, unless a wake comes first: then `Woken` is thrown (and the step's own outcome ignored). */
  const until = <T>(step: Promise<T>): Promise<T> => {
    step.catch(() => undefined);
    return Promise.race([
      step,
      woken.then((reason) => {
        throw new Woken(reason);
      }),
    ]);
  };

  let clockOffsetMs = 0;
  let roundTripMs = 0;
  /** Shards present at the latest count, this one included: what a timeout reports when Redis does not answer then. */
  let arrived = 0;
  const started = (runClockMs: number): BarrierStart => ({ startAtMs: runClockMs - clockOffsetMs, clockOffsetMs, roundTripMs });
  /** Sets the start `leadMs` ahead unless a shard did first (and announces it then); resolves to the start. */
  const claimStart = async (leadMs: number, announce: boolean): Promise<number> => {
    const runClockMs = Date.now() + clockOffsetMs + leadMs;
    if ((await redis.set(keys.start, String(runClockMs), 'EX', KEY_TTL_SECONDS, 'NX')) === 'OK') {
      // Not awaited: this shard knows the start, and a Redis gone now must not hold it.
      if (announce) announceStart(redis, layout, keys.start, runClockMs).catch(() => undefined);
      return runClockMs;
    }
    return Number(await redis.get(keys.start));
  };
  /** The start if a shard set it, or set now if every shard has arrived; null while some are missing. */
  const readStart = async (arrive: boolean): Promise<number | null> => {
    const pipeline = redis.pipeline();
    if (arrive) pipeline.sadd(keys.arrived, member).expire(keys.arrived, KEY_TTL_SECONDS);
    const replies = (await pipeline.get(keys.start).scard(keys.arrived).exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
    const [start, count] = replies.slice(-2).map(([, reply]) => reply) as [string | null, number];
    arrived = count;
    if (start !== null) return Number(start);
    return count >= shardCount ? claimStart(START_LEAD_MS, true) : null;
  };
  /** Leaves the barrier so that a later shard does not count this one as present; undefined when Redis did not answer in time. */
  const leave = async (): Promise<{ start: string | null; count: number } | undefined> => {
    const leaving = redis.pipeline().srem(keys.arrived, member).get(keys.start).scard(keys.arrived).exec();
    leaving.catch(() => undefined);
    // A connection that knows Redis is gone keeps the commands and sends them, in order, once it is back.
    if (redis.status !== 'ready') return undefined;
    const replies = await settledWithin(leaving, LEAVE_WAIT_MS);
    if (!replies || replies.some(([error]) => error)) return undefined;
    return { start: replies[1]![1] as string | null, count: replies[2]![1] as number };
  };

  try {
    ({ offsetMs: clockOffsetMs, roundTripMs } = await until(measureClockOffset(redis)));
    if (shardCount === 1) return started(await until(claimStart(LONE_LEAD_MS, false)));

    // Listening before the first read of the start: an announcement made after that read is heard.
    cleanups.push(channel.onStart(keys.start, (runClockMs) => wake({ type: 'start', runClockMs })));
    let recheckNow: () => void = () => undefined;
    cleanups.push(channel.onResubscribed(() => recheckNow()));
    let recheckTimer: NodeJS.Timeout | undefined;
    cleanups.push(() => clearTimeout(recheckTimer));

    let start = await until(readStart(true));
    while (start === null) {
      await until(
        new Promise<void>((resolve) => {
          recheckNow = resolve;
          recheckTimer = setTimeout(resolve, RECHECK_MS);
        }),
      );
      clearTimeout(recheckTimer);
      start = await until(readStart(false));
    }
    return started(start);
  } catch (error) {
    if (!(error instanceof Woken)) throw error;
    const { wake: reason } = error;
    if (reason.type === 'start') return started(reason.runClockMs);
    // Leave before the job goes back to wait (so the worker that takes it arrives afresh), or fails.
    const left = await leave();
    if (reason.type === 'abort') throw abortError(signal);
    // Set while this shard was still counted: every shard had arrived, this one with them, so it joins.
    if (left?.start != null) return started(Number(left.start));
    throw new BarrierTimeoutError(options.phaseName, left ? left.count + 1 : Math.max(arrived, 1), shardCount, options.timeoutMs);
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
}
