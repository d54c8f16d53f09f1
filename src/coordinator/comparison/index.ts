export { compareRuns, type ComparedRun, type RunComparison } from './compare-runs';
export { renderComparisonMarkdown, VERDICT_DEFINITIONS } from './comparison-markdown';
export type { MetricComparison } from './metric-comparison';
export { judgeChange, overallVerdict, type Verdict } from './verdict';
