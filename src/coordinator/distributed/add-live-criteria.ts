/**
 * A distributed run's criteria judged so far, phase by phase, from one poll of its progress: each
 * shard's totals in Redis hold everything it has measured (a running shard's latest report, a done
 * shard's result), so whoever reads the run (the CLI that submitted it, the dashboard) judges the
 * same from the same poll, whether it has followed the run from its start or not.
 */
import type { Criterion } from '../../shared/criteria';
import { judgeLive } from '../metrics/live-criteria';
import type { RunProgress } from './watch-run';

const ENDED = new Set(['completed', 'failed']);

/**
 * The progress with `criteria` on each phase that has some and has not ended, judged on its shards'
 * totals (`judgeLive`). An ended phase has its report's judgment.
 */
export function addLiveCriteria(phases: ReadonlyArray<{ criteria: readonly Criterion[] }>, progress: RunProgress): RunProgress {
  return {
    ...progress,
    phases: progress.phases.map((phase) => {
      if (ENDED.has(phase.state)) return phase;
      const criteria = judgeLive(
        phases[phase.phaseIndex]?.criteria ?? [],
        phase.shards.map((shard) => shard.totals),
      );
      return criteria ? { ...phase, criteria } : phase;
    }),
  };
}
