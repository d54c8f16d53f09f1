/**
 * Runs a plan's phases in order through an executor (in-process threads, or anything else that
 * implements `ShardExecutor`), merges each phase's shard results and builds the report. A phase
 * whose shards fail is recorded as failed with its error, and the run goes on to the next phase.
 */
import { dirname } from 'node:path';
import { toErrorPayload } from '../shared/errors';
import type { MockServerConfig, Plan } from '../shared/plan-schema';
import { newRunId } from '../shared/queue-layout';
import type { RunReport } from '../shared/run-report';
import { mergeShardResults } from '../shared/shard-result';
import type { ShardExecutor, ShardProgress } from '../shared/shard-task';
import type { PhaseReport } from '../shared/run-report';
import { buildPhaseReport, buildRunReport, type PhaseOutcomeInput } from './build-run-report';
import { phaseToTasks, resolveTarget } from './plan-to-tasks';
import type { RunEvent } from './run-events';

export interface RunPlanOptions {
  executor: ShardExecutor;
  /** Where the plan came from, for the report. */
  source: string;
  mode?: RunReport['mode'];
  /** Starts the built-in mock for plans with `target.mock`. */
  startMock?: (config: MockServerConfig) => Promise<{ url: string; close(): Promise<void> }>;
  onEvent?: (event: RunEvent) => void;
  runId?: string;
}

/** Delay between building a phase's tasks and their common start: time for shards to get ready. */
const START_LEAD_MS = 100;

export async function runPlan(plan: Plan, options: RunPlanOptions): Promise<RunReport> {
  const emit = options.onEvent ?? (() => undefined);
  const runId = options.runId ?? newRunId(plan.name);
  const startedAt = new Date();
  if (plan.target.mock && !options.startMock) throw new Error('this plan tests the built-in mock: pass startMock');
  const mock = plan.target.mock && options.startMock ? await options.startMock(plan.target.mock) : undefined;
  try {
    const target = resolveTarget(plan.target, mock?.url, dirname(options.source));
    emit({ type: 'run-start', runId, phases: plan.phases.length });
    const phases: PhaseReport[] = [];
    for (const [phaseIndex, phase] of plan.phases.entries()) {
      const phaseStartedMs = Date.now();
      emit({ type: 'phase-start', phaseIndex, name: phase.name, scenario: phase.scenario, shards: phase.shards });
      const tasks = phaseToTasks(plan, phaseIndex, target, runId, Date.now() + START_LEAD_MS);
      const progress = new Map<number, ShardProgress>();
      const onProgress = (shard: ShardProgress) => {
        progress.set(shard.shardIndex, shard);
        const all = [...progress.values()];
        emit({
          type: 'progress',
          phaseIndex,
          completed: all.reduce((sum, p) => sum + p.completed, 0),
          errors: all.reduce((sum, p) => sum + p.errors, 0),
          fraction: all.reduce((sum, p) => sum + p.fraction, 0) / tasks.length,
        });
      };
      let outcome: PhaseOutcomeInput;
      try {
        outcome = { phase, merged: mergeShardResults(await options.executor.runPhase(tasks, onProgress)), error: null };
      } catch (error) {
        outcome = { phase, merged: null, error: toErrorPayload(error) };
      }
      const report = buildPhaseReport(outcome);
      phases.push(report);
      emit({
        type: 'phase-end',
        phaseIndex,
        name: phase.name,
        passed: report.passed,
        durationMs: Date.now() - phaseStartedMs,
        ...(outcome.error ? { error: outcome.error.message } : {}),
      });
    }
    return buildRunReport({ runId, plan, source: options.source, mode: options.mode ?? 'local', startedAt, finishedAt: new Date(), phases });
  } finally {
    await mock?.close();
  }
}
