/**
 * BASE against NEW: every phase (matched by name) and judged metric, with the verdict of each and
 * of the whole, and every reason the two runs may not be alike (another workload, another machine,
 * another server, an interrupted run, a report without histograms), said, never silently passed over.
 */
import {
  REGRESSION_METRIC_IDS,
  regressionSchema,
  regressionThresholds,
  type Regression,
  type RegressionMetric,
  type RegressionThreshold,
} from '../../shared/regression-schema';
import { fingerprintDifferences, type EnvironmentFingerprint } from '../history/environment-fingerprint';
import type { HistoryEntry } from '../history/history-entry';
import { comparePhase, type PhaseComparison, type PhaseSide } from './compare-phase';
import { practicalThreshold, type NoiseCalibration, type PracticalThreshold } from './practical-threshold';
import { untrustedTimings } from './timing-trust';
import { overallVerdict, type Verdict } from './verdict';

export interface ComparedRun {
  runId: string;
  planName: string;
  startedAt: string;
  planHash: string;
  fingerprint: EnvironmentFingerprint;
  /** Where it came from: the history, or a report.json file (no histograms). */
  source: 'history' | 'report file';
  passed: boolean;
  aborted: boolean;
}

export interface RunComparison {
  base: ComparedRun;
  new: ComparedRun;
  verdict: Verdict;
  phases: PhaseComparison[];
  /** What makes the two runs unlike, one line each: shown above everything else. */
  warnings: string[];
  /** Latencies could not be tested (a side has no histograms): only ratios and throughput were. */
  summariesOnly: boolean;
  /** Metrics switched off in `regression:`. */
  notJudged: RegressionMetric[];
  /** NEW's plan's `regression:`, the rest defaults, before any calibration (each row says the threshold it was judged with). */
  thresholds: Record<RegressionMetric, RegressionThreshold>;
  /** Rows whose threshold the history's noise widened. */
  widened: number;
}

function comparedRun(entry: HistoryEntry): ComparedRun {
  return {
    runId: entry.runId,
    planName: entry.planName,
    startedAt: entry.report.startedAt,
    planHash: entry.planHash,
    fingerprint: entry.fingerprint,
    source: entry.phases.length === 0 ? 'report file' : 'history',
    passed: entry.report.passed,
    aborted: entry.report.aborted,
  };
}

/** NEW's `regression:` as its report keeps it (already resolved); read again through the schema's text form when needed. */
function planRegression(entry: HistoryEntry): Regression | undefined {
  const stored = (entry.report.resolvedPlan as { regression?: Record<string, { text?: unknown }> } | null)?.regression;
  if (!stored || typeof stored !== 'object') return undefined;
  const texts = Object.fromEntries(
    Object.entries(stored)
      .filter(([, threshold]) => typeof threshold?.text === 'string')
      .map(([metric, threshold]) => [metric, threshold.text as string]),
  );
  const parsed = regressionSchema.safeParse(texts);
  return parsed.success ? parsed.data : undefined;
}

function phaseSide(entry: HistoryEntry, index: number): PhaseSide {
  return { report: entry.report.phases[index]!, distributions: entry.phases[index] ?? null };
}

/**
 * BASE against NEW. `calibration` (from the history of runs like NEW's, see `loadNoiseCalibration`)
 * widens the default thresholds of noisy metrics; a threshold the plan sets is never changed.
 */
export function compareRuns(baseEntry: HistoryEntry, newEntry: HistoryEntry, calibration?: NoiseCalibration): RunComparison {
  const base = comparedRun(baseEntry);
  const next = comparedRun(newEntry);
  const warnings: string[] = [];
  if (base.planName !== next.planName) warnings.push(`different plans: BASE ran "${base.planName}", NEW ran "${next.planName}"`);
  if (base.planHash !== next.planHash) {
    warnings.push(
      `the workloads differ (plan hash ${base.planHash.slice(0, 12)} → ${next.planHash.slice(0, 12)}): the two runs did not send the same requests`,
    );
  }
  const differences = fingerprintDifferences(base.fingerprint, next.fingerprint);
  if (differences.length > 0) {
    warnings.push(`the environments differ (fingerprint ${base.fingerprint.hash} → ${next.fingerprint.hash}): ${differences.join('; ')}`);
  }
  for (const [side, run] of [
    ['BASE', base],
    ['NEW', next],
  ] as const) {
    if (run.aborted) warnings.push(`${side} (${run.runId}) was interrupted: its phases stopped early`);
  }
  const summariesOnly = base.source === 'report file' || next.source === 'report file';
  if (summariesOnly) {
    warnings.push('a report file holds no histograms: latencies are shown but not tested (inconclusive); ratios and throughput are tested');
  }

  const planned = planRegression(newEntry);
  const thresholds = regressionThresholds(planned);
  const practical = (phase: string) =>
    Object.fromEntries(
      REGRESSION_METRIC_IDS.map((metric) => [metric, practicalThreshold(metric, planned?.[metric], calibration?.(phase, metric))]),
    ) as Record<RegressionMetric, PracticalThreshold>;
  const phases: PhaseComparison[] = [];
  newEntry.report.phases.forEach((phase, index) => {
    const baseIndex = baseEntry.report.phases.findIndex((candidate) => candidate.name === phase.name);
    if (baseIndex < 0) {
      warnings.push(`phase "${phase.name}" is only in NEW: not compared`);
      return;
    }
    const untrusted = untrustedTimings(baseEntry.report.phases[baseIndex]!, phase);
    if (untrusted !== null) warnings.push(`phase "${phase.name}": ${untrusted.detail}`);
    phases.push(comparePhase(phaseSide(baseEntry, baseIndex), phaseSide(newEntry, index), practical(phase.name)));
  });
  for (const phase of baseEntry.report.phases) {
    if (!newEntry.report.phases.some((candidate) => candidate.name === phase.name)) {
      warnings.push(`phase "${phase.name}" is only in BASE: not compared`);
    }
  }
  const verdict = overallVerdict(phases.flatMap((phase) => phase.metrics.map((metric) => metric.verdict)));
  const notJudged = REGRESSION_METRIC_IDS.filter((metric) => thresholds[metric].kind === 'off');
  const widened = phases.reduce((sum, phase) => sum + phase.metrics.filter((metric) => metric.thresholdSource === 'history').length, 0);
  return { base, new: next, verdict, phases, warnings, summariesOnly, notJudged, thresholds, widened };
}
