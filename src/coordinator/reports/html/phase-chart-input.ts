/** What each chart builder of a phase reads: the phase's report, its place in the run and its plan settings. */
import type { PhaseReport } from '../../../shared/run-report';
import type { ChartPanel } from './chart-spec';
import type { PhaseSettings } from './phase-settings';

export interface PhaseChartInput {
  phase: PhaseReport;
  /** The phase's position in the run: chart ids are unique per report. */
  index: number;
  settings: PhaseSettings;
}

/** The DOM id of one of a phase's charts, such as "phase-0-throughput". */
export function chartId(input: PhaseChartInput, name: string): string {
  return `phase-${input.index}-${name}`;
}

/**
 * A chart, or why it is not drawn ("no TTFT: the target did not stream"): the report says so
 * instead of leaving an empty frame.
 */
export type ChartOutcome = { panel: ChartPanel } | { missing: string };
