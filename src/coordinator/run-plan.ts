/**
 * Runs a plan's phases in order through an executor (in-process threads, or anything else that
 * implements `ShardExecutor`), merges each phase's shard results and builds the report. A phase
 * whose shards fail is recorded as failed with its error, and the run goes on to the next phase.
 * An interrupt (`stopSignal`) stops the phase running (through the executor, which watches the same
 * signal), skips the phases not started, and marks the report aborted.
 */
import { dirname } from 'node:path';
import { InternalError, toErrorPayload } from '../shared/errors';
import type { MockServerConfig } from '../shared/mock-schema';
import type { Summary } from '../shared/phase-metrics';
import type { LoadedPlan } from '../shared/parse-plan';
import { newRunId } from '../shared/queue-layout';
import { mockOf } from '../shared/target-schema';
import type { PhaseReport, RunReport } from '../shared/run-report';
import { mergeShardResults, type ShardResult } from '../shared/shard-result';
import type { LiveTotals } from '../shared/live-totals';
import { sumProgress, type ShardExecutor, type ShardProgress } from '../shared/shard-task';
import { buildPhaseReport, buildRunReport, type PhaseOutcomeInput } from './reports/build-run-report';
import { judgeLive, type LiveCriteria } from './metrics/live-criteria';
import { liveWindow } from './metrics/live-window';
import { resolveTarget } from './resolve-target';
import type { RunEvent } from './run-events';
import { shardTasks, type ShardTaskOptions } from './shard-tasks';

export interface RunPlanOptions {
  executor: ShardExecutor;
  mode?: RunReport['mode'];
  /** Starts the built-in mock for plans with `target.mock`. */
  startMock?: (config: MockServerConfig) => Promise<{ url: string; close(): Promise<void>; takeLateness?(): Summary | null }>;
  onEvent?: (event: RunEvent) => void;
  runId?: string;
  /** Aborted on an interrupt: no further phase starts, and the report says the run was aborted. Give the executor the same signal. */
  stopSignal?: AbortSignal;
  /** Asks the shards for a sample of their requests (`run --requests`). */
  tasks?: ShardTaskOptions;
  /** Each phase's merged result (histograms, windows, request log) as it completes: for exports and history. */
  onPhaseResult?: (phaseIndex: number, merged: ShardResult | null) => void;
}

export async function runPlan(loaded: LoadedPlan, options: RunPlanOptions): Promise<RunReport> {
  const { plan, source } = loaded;
  const emit = options.onEvent ?? (() => undefined);
  const runId = options.runId ?? newRunId(plan.name);
  const startedAt = new Date();
  const mockConfig = mockOf(plan.target);
  if (mockConfig && !options.startMock) throw new InternalError('this plan tests the built-in mock: runPlan needs startMock');
  const mock = mockConfig && options.startMock ? await options.startMock(mockConfig) : undefined;
  try {
    const target = resolveTarget(plan.target, mock?.url, dirname(source));
    emit({ type: 'run-start', runId, phases: plan.phases.length });
    const phases: PhaseReport[] = [];
    for (const [phaseIndex, phase] of plan.phases.entries()) {
      if (options.stopSignal?.aborted) break;
      const phaseStartedMs = Date.now();
      const plannedMs = phase.load.durationMs === undefined ? null : phase.load.warmupMs + phase.load.durationMs;
      emit({ type: 'phase-start', phaseIndex, name: phase.name, scenario: phase.scenario, shards: phase.shards, plannedMs });
      const tasks = shardTasks(loaded, phaseIndex, target, runId, options.tasks);
      const progress = new Map<number, ShardProgress>();
      let judged: { totals: Array<LiveTotals | undefined>; criteria: LiveCriteria | null } | undefined;
      const onProgress = (shard: ShardProgress) => {
        progress.set(shard.shardIndex, shard);
        const { completed, errors, fraction, recent, stopped } = sumProgress([...progress.values()], tasks.length);
        const totals = tasks.map((_, shardIndex) => progress.get(shardIndex)?.totals);
        // Judged again only when a shard brought new totals (about once a second), not at every report.
        if (!judged || totals.some((shardTotals, index) => shardTotals !== judged?.totals[index]))
          judged = { totals, criteria: judgeLive(phase.criteria, totals) };
        const { criteria } = judged;
        emit({ type: 'progress', phaseIndex, completed, errors, fraction, window: liveWindow(recent), criteria, stopped: stopped ?? null });
      };
      // A new period: what the mock measured before this phase is not this phase's.
      mock?.takeLateness?.();
      let outcome: PhaseOutcomeInput;
      try {
        outcome = { phase, merged: mergeShardResults(await options.executor.runPhase(tasks, onProgress)), error: null };
      } catch (error) {
        outcome = { phase, merged: null, error: toErrorPayload(error) };
      }
      // The built-in mock serves from this process: how late it answered by its own clock is part of the verdict on its timings.
      outcome.mockLateness = mock?.takeLateness?.() ?? null;
      options.onPhaseResult?.(phaseIndex, outcome.merged);
      const report = buildPhaseReport(outcome);
      phases.push(report);
      emit({
        type: 'phase-end',
        phaseIndex,
        name: phase.name,
        passed: report.passed,
        // The phase's final counts, from its report: the last progress line agrees with it.
        completed: report.metrics.requests.ok,
        errors: report.metrics.requests.errors,
        durationMs: Date.now() - phaseStartedMs,
        ...(outcome.error ? { error: outcome.error.message } : {}),
      });
    }
    const aborted = options.stopSignal?.aborted === true;
    return buildRunReport({ runId, plan, source, mode: options.mode ?? 'local', startedAt, finishedAt: new Date(), phases, aborted });
  } finally {
    await mock?.close();
  }
}
