/**
 * The report of a run: the versioned shape of report.json, written by local and distributed runs
 * alike. Bump `REPORT_SCHEMA_VERSION` on any change that breaks a reader.
 */
import type { CriterionResult } from './criteria';
import type { ErrorPayload } from './errors';
import type { PhaseMetrics } from './phase-metrics';
import type { ShardInfo } from './shard-result';

export const REPORT_SCHEMA_VERSION = 2;

export interface PhaseReport {
  name: string;
  scenario: string;
  models: string[];
  passed: boolean;
  /** Why the phase did not run to its end (its shards failed); null when it did. */
  error: ErrorPayload | null;
  metrics: PhaseMetrics;
  criteria: CriterionResult[];
  shards: ShardInfo[];
}

export interface RunReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  runId: string;
  plan: { name: string; description?: string; seed: number; source: string };
  /** The plan as resolved (units in ms, bytes, fractions). It holds no secrets: keys are named, never included. */
  resolvedPlan: unknown;
  tool: { name: 'grym-perf'; version: string; node: string; host: string; platform: string };
  mode: 'local' | 'distributed';
  /** Every worker process that ran a shard: what a rerun needs to compare like with like. */
  workers: Array<{ worker: string; host: string; node: string; cpus: number; threads: number }>;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  passed: boolean;
  /**
   * True when the run was interrupted (Ctrl-C, SIGTERM): the phase running then stopped early, the
   * phases not started are missing from `phases`, and the run did not pass.
   */
  aborted: boolean;
  phases: PhaseReport[];
}
