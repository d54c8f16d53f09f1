/**
 * The report of a distributed run from its phases' outcomes: the same builder as a local run, so
 * both produce the same report from the same results. Pure, tested without Redis.
 */
import { PhaseNotRunError } from '../../shared/errors';
import type { RunJob } from '../../shared/job-payloads';
import { validatePlan } from '../../shared/parse-plan';
import type { RunReport } from '../../shared/run-report';
import { buildPhaseReport, buildRunReport } from '../reports/build-run-report';
import type { PhaseOutcome } from './phase-outcome';

/** `outcomes[i]` is phase i's outcome, or undefined when that phase never returned one. */
export function runReportFromOutcomes(data: RunJob, outcomes: ReadonlyArray<PhaseOutcome | undefined>, finishedAt = new Date()): RunReport {
  const plan = validatePlan(data.planInput, data.planSource);
  return buildRunReport({
    runId: data.runId,
    plan,
    source: data.planSource,
    mode: 'distributed',
    startedAt: new Date(data.submittedAt),
    finishedAt,
    phases: plan.phases.map((phase, index) => {
      const outcome = outcomes[index];
      return buildPhaseReport({
        phase,
        merged: outcome?.merged ?? null,
        error: outcome ? outcome.error : new PhaseNotRunError(phase.name).toPayload(),
      });
    }),
  });
}
