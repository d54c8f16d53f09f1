import type { StopReason } from '../shared/shard-result';
import type { LiveCriteria } from './metrics/live-criteria';
import type { LiveWindow } from './metrics/live-window';

/** Events a run emits while it goes, for progress displays. */
export type RunEvent =
  | { type: 'run-start'; runId: string; phases: number }
  | {
      type: 'phase-start';
      phaseIndex: number;
      name: string;
      scenario: string;
      shards: number;
      /** Warm-up plus measured duration when the phase is timed; null when it ends by its request count. */
      plannedMs: number | null;
    }
  | {
      type: 'progress';
      phaseIndex: number;
      completed: number;
      errors: number;
      fraction: number;
      /** The latest window all shards have closed: its throughput and latency. */
      window: LiveWindow | null;
      /** The phase's criteria judged so far on its shards' latest totals (`judgeLive`); null when it has none. */
      criteria: LiveCriteria | null;
      /** Why the phase is stopping early, as soon as a shard knows; null while it runs its course. */
      stopped: StopReason | null;
    }
  | {
      type: 'phase-end';
      phaseIndex: number;
      name: string;
      passed: boolean;
      /** Final counts of the phase, as its report has them. */
      completed: number;
      errors: number;
      durationMs: number;
      error?: string;
    };
