/**
 * grym-perf as a library: parse and run plans in code, and the types a module target implements.
 * The CLI (`grym-perf`) is the main way in; see the README.
 */
export { loadPlanFile, renderMarkdownReport, renderSummary, runPlan, writeReports } from './coordinator';
export { startMockLlm, type MockLlmServer } from './mock-llm';
export { GrymError, PlanInvalidError, type ErrorCode } from './shared/errors';
export { parsePlan, validatePlan } from './shared/parse-plan';
export type { Plan, PlanInput } from './shared/plan-schema';
export type { RunReport, PhaseReport } from './shared/run-report';
export { createLocalExecutor } from './worker';
export type { GrymModule, GrymSession } from './worker/targets/module-target';
