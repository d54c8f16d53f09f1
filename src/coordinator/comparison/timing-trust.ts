/**
 * Whether a phase's timings can be compared at all. A run whose load generator the report judged
 * not trustworthy (its threads lagged, or other processes held the CPU) measured the harness or
 * the machine as much as the target: its latencies, throughput and stability are not evidence of
 * a change in the target, so a comparison does not judge them. Measured on this 2-core machine,
 * every false `regressed` or `improved` of an A/A pair run beside a busy loop had such a run on
 * one side (TTFT p50 +52 % with the generator's loop lag p99 at 123 ms); counts (errors of
 * requests, facts recalled) stay judged.
 */
import { REGRESSION_METRICS, type RegressionMetric } from '../../shared/regression-schema';
import type { PhaseReport } from '../../shared/run-report';

/** Latencies, throughput and stability: what a starved generator distorts. Ratios of outcomes are not timings. */
export function isTimingMetric(metric: RegressionMetric): boolean {
  return REGRESSION_METRICS[metric].scale !== 'ratio' || metric === 'stability';
}

/** Whether the phase's load generator was judged trustworthy (reports without the verdict count as trustworthy). */
export function generatorTrusted(phase: PhaseReport): boolean {
  return (phase.metrics.generator as PhaseReport['metrics']['generator'] | undefined)?.trustworthy !== false;
}

/** Why a phase's timings are not judged: `reason` for each row, `detail` (with the report's first warning) said once. */
export interface UntrustedTimings {
  reason: string;
  detail: string;
}

/**
 * Why the phase's timings are not judged ("NEW's load generator was not trustworthy"), or null
 * when both sides' generators kept up.
 */
export function untrustedTimings(base: PhaseReport, next: PhaseReport): UntrustedTimings | null {
  const sides = (
    [
      ['BASE', base],
      ['NEW', next],
    ] as const
  ).filter(([, phase]) => !generatorTrusted(phase));
  if (sides.length === 0) return null;
  const who = sides.length === 2 ? 'the load generators of BASE and NEW were' : `${sides[0]![0]}'s load generator was`;
  const first = sides[0]![1].metrics.generator.warnings[0];
  return {
    reason: `${who} not trustworthy: timings not judged`,
    detail: `${who} not trustworthy${first ? ` (${first})` : ''}: timings not judged`,
  };
}
