/**
 * Whether an untrustworthy load generator is a reason a phase failed: only when its plan says so
 * (`generator.failOnUntrustworthy`); otherwise it is reported, and the phase's verdict rests on its
 * criteria. JUnit and the alert payload both ask here, so they never disagree.
 */
import type { PhaseReport, RunReport } from '../../shared/run-report';

/** Whether the plan made an untrustworthy generator fail this phase. */
export function untrustworthyFails(report: RunReport, phase: PhaseReport): boolean {
  if (phase.metrics.generator.trustworthy) return false;
  const planned = (report.resolvedPlan as { phases?: unknown } | null)?.phases;
  const resolved = Array.isArray(planned)
    ? (planned as Array<{ name?: unknown; generator?: { failOnUntrustworthy?: unknown } }>).find((p) => p.name === phase.name)
    : undefined;
  const flag = resolved?.generator?.failOnUntrustworthy;
  if (typeof flag === 'boolean') return flag;
  // No plan to read: a phase that failed with every criterion met failed on its generator.
  return !phase.passed && phase.error === null && phase.metrics.stopped === null && phase.criteria.every((c) => c.passed);
}
