/** Events a run emits while it goes, for progress displays. */
export type RunEvent =
  | { type: 'run-start'; runId: string; phases: number }
  | { type: 'phase-start'; phaseIndex: number; name: string; scenario: string; shards: number }
  | { type: 'progress'; phaseIndex: number; completed: number; errors: number; fraction: number }
  | { type: 'phase-end'; phaseIndex: number; name: string; passed: boolean; durationMs: number; error?: string };
