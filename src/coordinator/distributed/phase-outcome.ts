/**
 * What a phase job of a distributed run returns: its shards' results merged exactly (histograms
 * added), or why it did not complete. Pure, so it is tested without Redis; the control worker
 * feeds it the shard jobs' values and failures.
 */
import { ShardFailedError, type ErrorPayload } from '../../shared/errors';
import { mergeShardResults, type ShardResult } from '../../shared/shard-result';

export interface PhaseOutcome {
  phaseIndex: number;
  /** The shards' results merged; null when no shard finished. */
  merged: ShardResult | null;
  /** Why the phase did not complete, when it did not. */
  error: ErrorPayload | null;
}

/** A phase outcome from the results of the shards that finished and the failures of those that did not. */
export function phaseOutcome(
  phase: { phaseIndex: number; phaseName: string; shardCount: number },
  results: ShardResult[],
  failures: string[],
): PhaseOutcome {
  const merged = results.length > 0 ? mergeShardResults(results) : null;
  const missing = phase.shardCount - results.length;
  if (failures.length === 0 && missing <= 0) return { phaseIndex: phase.phaseIndex, merged, error: null };
  const reasons = failures.length > 0 ? failures.join('; ') : 'a shard returned no result';
  const error = new ShardFailedError(phase.phaseName, Math.max(failures.length, missing), phase.shardCount, reasons);
  return { phaseIndex: phase.phaseIndex, merged, error: error.toPayload() };
}
