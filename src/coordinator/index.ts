export { buildPhaseReport, buildRunReport } from './build-run-report';
export { computePhaseMetrics, computeStability } from './compute-phase-metrics';
export { loadPlanFile, loadPlanWithInput } from './load-plan';
export { phaseToTasks, resolveTarget } from './plan-to-tasks';
export { createProgressReporter, type ProgressReporter } from './progress-reporter';
export type { RunEvent } from './run-events';
export { runPlan, type RunPlanOptions } from './run-plan';
export { renderMarkdownReport, renderSummary, writeReports } from './write-reports';
