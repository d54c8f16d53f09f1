/**
 * How far this process's clock is from the run's clock, Redis `TIME`: the one clock every worker
 * and control worker of a distributed run can read. Measured as NTP does it: the server's time is
 * taken to be read halfway through the round trip, and of a few tries the one with the shortest
 * round trip wins (the least time for the answer to have waited anywhere).
 */
import type { Redis } from 'ioredis';

/** Tries per measurement: a handful of round trips, a millisecond or two on a LAN. */
const SAMPLES = 5;

export interface ClockOffset {
  /** Redis time minus this process's time, in whole ms (whole, so that times moved by it stay integers). */
  offsetMs: number;
  /** The shortest round trip seen: the offset is known to within half of it. */
  roundTripMs: number;
}

/** Measures this process's offset from Redis `TIME` over `redis`. */
export async function measureClockOffset(redis: Redis, samples = SAMPLES): Promise<ClockOffset> {
  let best: { offsetMs: number; roundTripMs: number } | undefined;
  for (let index = 0; index < samples; index++) {
    const sentPerf = performance.now();
    const sentEpoch = Date.now();
    const [seconds, micros] = (await redis.time()) as [number | string, number | string];
    const roundTripMs = performance.now() - sentPerf;
    const redisMs = Number(seconds) * 1000 + Number(micros) / 1000;
    const offsetMs = redisMs - (sentEpoch + roundTripMs / 2);
    if (!best || roundTripMs < best.roundTripMs) best = { offsetMs, roundTripMs };
  }
  const { offsetMs, roundTripMs } = best as { offsetMs: number; roundTripMs: number };
  return { offsetMs: Math.round(offsetMs), roundTripMs };
}
