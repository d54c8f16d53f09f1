/**
 * Held-stream figures read from the request log, over the part of the measured window where every
 * request in flight is a measured one.
 *
 * A phase measures the requests that start after its warm-up, so in the first seconds of its
 * window the streams begun during the warm-up (unmeasured, each ~3 s long) are still in flight:
 * the report's mean in flight ramps from zero and its requests per second divide the window's
 * requests by a span that runs on until the last of them ends. Both read ~30 % low for 3 s streams
 * in a 10 s window. From `from + longest request` on, every request in flight started in the
 * window, and every request that ends there is in the log, so counting the log is exact there.
 */
import type { RequestLogEntry } from '../../src/shared/shard-result';

/** What the log says about [fromMs, toMs]. */
export interface SteadyFigures {
  fromMs: number;
  toMs: number;
  /** Time-weighted mean of requests in flight. */
  inFlightMean: number;
  /** Requests that ended in the window, and per second. */
  ended: number;
  endedPerSecond: number;
  /** Output tokens of the requests that ended in it, per second. */
  outputTokensPerSecond: number;
  /** The same, per shard (index = shard). */
  inFlightByShard: number[];
  endedByShard: number[];
}

/**
 * The steady part of a measured window that starts at `windowFromMs` and lasts `windowMs`: it begins
 * after the longest logged request, so that the requests begun before the window have ended. Null
 * when no request was logged or the window holds no steady part.
 */
export function steadyFigures(entries: readonly RequestLogEntry[], windowFromMs: number, windowMs: number, shards: number): SteadyFigures | null {
  if (entries.length === 0) return null;
  const longestMs = Math.max(...entries.map((entry) => entry.e2eMs));
  const fromMs = windowFromMs + longestMs;
  const toMs = windowFromMs + windowMs;
  if (toMs - fromMs < 1000) return null;
  const spanMs = toMs - fromMs;
  const inFlightMsByShard = new Array<number>(shards).fill(0);
  const endedByShard = new Array<number>(shards).fill(0);
  let tokens = 0;
  for (const entry of entries) {
    const endMs = entry.startMs + entry.e2eMs;
    // Time this request spent in flight inside the window: the integral of in-flight over time.
    const overlapMs = Math.min(endMs, toMs) - Math.max(entry.startMs, fromMs);
    if (overlapMs > 0) inFlightMsByShard[entry.shard] = (inFlightMsByShard[entry.shard] ?? 0) + overlapMs;
    if (endMs >= fromMs && endMs < toMs) {
      endedByShard[entry.shard] = (endedByShard[entry.shard] ?? 0) + 1;
      tokens += entry.outputTokens ?? 0;
    }
  }
  const inFlightByShard = inFlightMsByShard.map((ms) => ms / spanMs);
  const ended = endedByShard.reduce((sum, count) => sum + count, 0);
  return {
    fromMs,
    toMs,
    inFlightMean: inFlightByShard.reduce((sum, value) => sum + value, 0),
    ended,
    endedPerSecond: ended / (spanMs / 1000),
    outputTokensPerSecond: tokens / (spanMs / 1000),
    inFlightByShard,
    endedByShard,
  };
}
