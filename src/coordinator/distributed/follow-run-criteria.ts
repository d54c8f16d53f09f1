/**
 * A distributed run's criteria judged so far, phase by phase: Redis holds only each running shard's
 * latest windows, so whoever follows the run (the CLI that submitted it, the dashboard) keeps the
 * running totals between polls (`followLiveCriteria`) and adds the judgment to each phase's progress.
 */
import type { Criterion } from '../../shared/criteria';
import { followLiveCriteria } from '../metrics/live-criteria';
import type { RunProgress } from './watch-run';

/** A follower of one run: give it every poll's progress, in order; it returns the progress with `criteria` on each phase that has some. */
export function followRunCriteria(phases: ReadonlyArray<{ criteria: readonly Criterion[] }>): (progress: RunProgress) => RunProgress {
  const followers = phases.map((phase) => followLiveCriteria(phase.criteria));
  return (progress) => ({
    ...progress,
    phases: progress.phases.map((phase) => {
      const criteria = followers[phase.phaseIndex]?.update(phase.shards.map((shard) => shard.recent));
      return criteria ? { ...phase, criteria } : phase;
    }),
  });
}
