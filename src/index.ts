/**
 * grym-perf as a library: parse and run plans in code, and the types a module target implements.
 * The CLI (`grym-perf`) is the main way in; see the README.
 */
export { loadPlan } from './coordinator/load-plan';
export { runPlan } from './coordinator/run-plan';
export { renderSummary } from './coordinator/reports/console-summary';
export { renderMarkdownReport } from './coordinator/reports/markdown-report';
export { writeReports } from './coordinator/reports/write-reports';
export { startMockLlm, type MockLlmServer } from './mock-llm';
export { GrymError, PlanInvalidError, type ErrorCode } from './shared/errors';
export type { GrymModule, GrymSession } from './shared/grym-module';
export { parsePlan, readPlan, validatePlan, type LoadedPlan } from './shared/parse-plan';
export type { Plan, PlanInput } from './shared/plan-schema';
export type { PhaseReport, RunReport } from './shared/run-report';
export { createLocalExecutor } from './worker';
