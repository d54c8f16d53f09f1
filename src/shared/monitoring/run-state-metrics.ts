/**
 * Run and phase state as Prometheus state sets, and the report's generator verdict per phase: set
 * by a local run as it goes, and by the dashboard from what it reads in Redis.
 */
import type { RunReport } from '../run-report';
import { PHASE_STATES, RUN_STATES, setStateSet, type GrymMetrics, type PhaseState, type RunState } from './grym-metrics';

export function markRunState(metrics: GrymMetrics, run: string, plan: string, state: RunState): void {
  setStateSet(metrics.runState, { run, plan }, RUN_STATES, state);
}

export function markPhaseState(metrics: GrymMetrics, run: string, phaseIndex: number, phase: string, state: PhaseState): void {
  setStateSet(metrics.phaseState, { run, phase }, PHASE_STATES, state);
  metrics.runPhase.set({ run }, phaseIndex);
}

/** The run's final state, each phase's verdict and whether its generator kept up, from its report. */
export function markRunReport(metrics: GrymMetrics, report: RunReport): void {
  const run = report.runId;
  for (const [phaseIndex, phase] of report.phases.entries()) {
    setStateSet(metrics.phaseState, { run, phase: phase.name }, PHASE_STATES, phase.passed ? 'passed' : 'failed');
    metrics.trustworthy.set({ run, phase: phase.name }, phase.metrics.generator.trustworthy ? 1 : 0);
    metrics.runPhase.set({ run }, phaseIndex);
  }
  markRunState(metrics, run, report.plan.name, report.aborted ? 'aborted' : report.passed ? 'passed' : 'failed');
}
