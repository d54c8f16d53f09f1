/**
 * Merged phase results -> the run's report. Shared by local runs and the distributed aggregator,
 * so both produce the same report from the same results.
 */
import { hostname, platform } from 'node:os';
import { evaluateCriterion } from '../../shared/criteria';
import type { ErrorPayload } from '../../shared/errors';
import type { Phase } from '../../shared/phase-schema';
import type { Plan } from '../../shared/plan-schema';
import { REPORT_SCHEMA_VERSION } from '../../shared/run-report';
import type { PhaseReport, RunReport } from '../../shared/run-report';
import { toolVersion } from '../../shared/tool-version';
import { emptyShardResult, type ShardResult } from '../../shared/shard-result';
import { computePhaseMetrics } from '../metrics/compute-phase-metrics';
import type { Summary } from '../../shared/phase-metrics';

export interface PhaseOutcomeInput {
  phase: Phase;
  /** The phase's shard results merged; null when no shard finished. */
  merged: ShardResult | null;
  error: ErrorPayload | null;
  /** How late a built-in mock serving from this process sent first tokens by its own clock, over the phase (local runs). */
  mockLateness?: Summary | null;
}

/** One phase's report: metrics from the merged result, every criterion judged on them. */
export function buildPhaseReport({ phase, merged, error, mockLateness }: PhaseOutcomeInput): PhaseReport {
  const metrics = computePhaseMetrics(merged ?? emptyShardResult(), phase, { mockLateness: mockLateness ?? null });
  const criteria = phase.criteria.map((criterion) => evaluateCriterion(criterion, metrics));
  return {
    name: phase.name,
    scenario: phase.scenario,
    models: [...phase.models],
    passed:
      error === null &&
      metrics.stopped === null &&
      criteria.every((criterion) => criterion.passed) &&
      metrics.memory.target.unreadable === null &&
      (metrics.generator.trustworthy || !phase.generator.failOnUntrustworthy),
    error,
    metrics,
    criteria,
    shards: merged?.shards ?? [],
  };
}

export interface RunReportInput {
  runId: string;
  plan: Plan;
  source: string;
  mode: RunReport['mode'];
  startedAt: Date;
  finishedAt: Date;
  phases: PhaseReport[];
  /** The run was interrupted: the report holds what was measured until then, and does not pass. */
  aborted?: boolean;
}

/** Credentials inside URLs (https://user:key@host) never reach a report. */
function withoutUrlCredentials(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\/\/[^/@\s]+@/g, '//***@');
  if (Array.isArray(value)) return value.map(withoutUrlCredentials);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, withoutUrlCredentials(child)]));
  return value;
}

export function buildRunReport(input: RunReportInput): RunReport {
  const phases = input.phases;
  const workers = new Map<string, RunReport['workers'][number]>();
  for (const shard of phases.flatMap((phase) => phase.shards)) {
    workers.set(shard.worker, {
      worker: shard.worker,
      host: shard.host,
      node: shard.node,
      cpus: shard.cpus,
      threads: Math.max(shard.threads, workers.get(shard.worker)?.threads ?? 0),
    });
  }
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    runId: input.runId,
    plan: {
      name: input.plan.name,
      ...(input.plan.description ? { description: input.plan.description } : {}),
      seed: input.plan.seed,
      source: input.source,
    },
    resolvedPlan: withoutUrlCredentials(input.plan),
    tool: { name: 'grym-perf', version: toolVersion(), node: process.version, host: hostname(), platform: `${platform()}-${process.arch}` },
    mode: input.mode,
    workers: [...workers.values()],
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
    passed: !input.aborted && phases.every((phase) => phase.passed),
    aborted: input.aborted ?? false,
    phases,
  };
}
