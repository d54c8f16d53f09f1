import type { ErrorPayload } from '../../shared/errors';
import type { ShardResult } from '../../shared/shard-result';

/** What a phase job hands on to the next phase and finally to the run's aggregate job. */
export interface PhaseOutcome {
  phaseIndex: number;
  /** The shards' results merged; null when no shard finished. */
  merged: ShardResult | null;
  /** Why the phase did not complete, when it did not. */
  error: ErrorPayload | null;
}

/** Return value of a phase job: its own outcome after those of the phases before it. */
export interface PhaseChainValue {
  phases: PhaseOutcome[];
}
