/**
 * A shard's result with its epoch times moved from the worker's clock to the run's (Redis `TIME`),
 * so that results of workers whose clocks disagree merge as if recorded on one clock: window
 * series start at the same origin, and first and last requests compare across shards. Times
 * relative to the phase start (memory samples, window indexes) and stop reasons (read on the run's
 * clock when they happen) are already common and stay as they are.
 */
import type { ShardResult } from '../shared/shard-result';

/** `result` with every epoch time on this worker's clock plus `clockOffsetMs` (run clock minus worker clock). */
export function runClockResult(result: ShardResult, clockOffsetMs: number): ShardResult {
  if (clockOffsetMs === 0) return result;
  const shift = (epochMs: number | null) => (epochMs === null ? null : epochMs + clockOffsetMs);
  return {
    ...result,
    firstStartMs: shift(result.firstStartMs),
    lastEndMs: shift(result.lastEndMs),
    shards: result.shards.map((shard) => ({ ...shard, firstRequestAtMs: shift(shard.firstRequestAtMs) })),
    // An empty series has origin 0 ("none"): it stays none.
    series:
      result.series.originEpochMs === 0 ? result.series : { ...result.series, originEpochMs: result.series.originEpochMs + clockOffsetMs },
    requestLog: result.requestLog.map((entry) => ({ ...entry, startMs: entry.startMs + clockOffsetMs })),
  };
}
