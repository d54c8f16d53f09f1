/** The comparison's front door: what `compare`, `run --baseline` and the CI outputs use of it. */
export { compareRuns, type RunComparison } from './compare-runs';
export { renderComparisonMarkdown } from './comparison-markdown';
export type { NoiseCalibration } from './practical-threshold';
export { judgeChange, overallVerdict } from './verdict';
