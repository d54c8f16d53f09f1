import type { Phase } from './phase-schema';

/**
 * The value a staged load asks for at `tMs` after the phase start: ramping linearly through each
 * stage from the previous stage's target to its own (the first stage starts at its own target).
 * Scenarios follow it; reports draw it as what was requested.
 */
export function stagedValueAt(stages: NonNullable<Phase['load']['stages']>, key: 'rate' | 'concurrency', tMs: number): number {
  let stageStartMs = 0;
  let from = stages[0]?.[key] ?? 0;
  for (const stage of stages) {
    const to = stage[key] ?? 0;
    if (tMs < stageStartMs + stage.durationMs) return from + ((to - from) * (tMs - stageStartMs)) / stage.durationMs;
    stageStartMs += stage.durationMs;
    from = to;
  }
  return from;
}
