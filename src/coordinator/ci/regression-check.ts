/**
 * One metric of one phase judged against a baseline run (`run --baseline`, `compare`): what the CI
 * outputs (JUnit test cases, alerts) take from a comparison, whatever computed it.
 */
export interface RegressionCheck {
  phase: string;
  /** Metric name as criteria write it, such as "latency.e2e.p95". */
  metric: string;
  verdict: 'regressed' | 'improved' | 'unchanged' | 'inconclusive';
  /** One line for people: both values, the difference and why the verdict, such as "p95 120 ms -> 150 ms (+25%, p < 0.01)". */
  detail: string;
}

export const isRegressed = (check: RegressionCheck) => check.verdict === 'regressed';
