/**
 * `regression:` in a plan: how large a change between two runs must be to matter (practical
 * significance), per metric that `grym-perf compare` and `run --baseline` judge. A change is only
 * called a regression when it is also statistically significant; these thresholds stop a real but
 * tiny change (a 2 % slower p50 on a noisy CI machine) from failing a build.
 *
 * Written as "+10%" (relative to BASE), "+5ms" (absolute, latencies), "+1pp" (percentage points,
 * ratios) or "off" (not judged). The sign, when written, must be the direction in which the metric
 * gets worse: latencies and the error rate up, throughput, context preservation and stability down.
 */
import { z } from 'zod';
import { DEFAULT_REGRESSION_THRESHOLDS } from './defaults';
import { parseDurationMs } from './units';

/** How a metric is measured, and so which thresholds it takes. */
export type RegressionScale = 'duration' | 'rate' | 'ratio';

export interface RegressionMetricDefinition {
  scale: RegressionScale;
  /** +1: larger is worse (latencies, errors); -1: smaller is worse (throughput, recall, stability). */
  worse: 1 | -1;
  description: string;
}

const latency = (what: string, stat: string): RegressionMetricDefinition => ({
  scale: 'duration',
  worse: 1,
  description: `${what}, ${stat}`,
});

/** Every metric a comparison judges, in the order reports list them. */
export const REGRESSION_METRICS = {
  'latency.e2e.p50': latency('End-to-end latency', 'p50'),
  'latency.e2e.p95': latency('End-to-end latency', 'p95'),
  'latency.e2e.p99': latency('End-to-end latency', 'p99'),
  'latency.ttft.p50': latency('Time to first token', 'p50'),
  'latency.ttft.p95': latency('Time to first token', 'p95'),
  'latency.ttft.p99': latency('Time to first token', 'p99'),
  'latency.itl.p50': latency('Inter-token latency', 'p50'),
  'latency.itl.p95': latency('Inter-token latency', 'p95'),
  'latency.itl.p99': latency('Inter-token latency', 'p99'),
  'switch.time.p50': latency('Latency of the first request after a model switch', 'p50'),
  'switch.time.p95': latency('Latency of the first request after a model switch', 'p95'),
  'throughput.rps': { scale: 'rate', worse: -1, description: 'Completed requests per second (median window)' },
  'requests.errorRate': { scale: 'ratio', worse: 1, description: 'Failed / measured requests' },
  'context.preservation': { scale: 'ratio', worse: -1, description: 'Facts recalled / probed on the same model' },
  stability: { scale: 'ratio', worse: -1, description: 'Stable windows / windows' },
} as const satisfies Record<string, RegressionMetricDefinition>;

export type RegressionMetric = keyof typeof REGRESSION_METRICS;
export const REGRESSION_METRIC_IDS = Object.keys(REGRESSION_METRICS) as RegressionMetric[];

/**
 * A resolved threshold: `relative` is a fraction of BASE's value (0.1 for "+10%"), `points` a
 * difference of ratios (0.01 for "+1pp"), `absolute` milliseconds; always > 0, in the worse direction.
 */
export type RegressionThreshold =
  { kind: 'relative' | 'points' | 'absolute'; value: number; text: string } | { kind: 'off'; value: null; text: 'off' };

const THRESHOLD_PATTERN = /^([+-])?\s*(\d+(?:\.\d+)?)\s*([a-zA-Z%]+)$/;

/** "+10%" for `metric` as a threshold, or the reason it is not one. */
export function parseRegressionThreshold(metric: RegressionMetric, text: string): RegressionThreshold | { error: string } {
  const definition: RegressionMetricDefinition = REGRESSION_METRICS[metric];
  const trimmed = text.trim();
  if (trimmed === 'off') return { kind: 'off', value: null, text: 'off' };
  const worseSign = definition.worse === 1 ? '+' : '-';
  const example =
    definition.scale === 'duration'
      ? `"${worseSign}10%" or "${worseSign}5ms"`
      : definition.scale === 'ratio'
        ? `"${worseSign}1pp" (percentage points)`
        : `"${worseSign}10%"`;
  const match = THRESHOLD_PATTERN.exec(trimmed);
  if (!match) return { error: `"${text}" is not a threshold: write ${example}, or "off"` };
  const [, sign, digits, unit = ''] = match;
  if (sign !== undefined && sign !== worseSign) {
    const direction = definition.worse === 1 ? 'up' : 'down';
    return { error: `${metric} gets worse going ${direction}: write ${example}` };
  }
  const number = Number(digits);
  let threshold: Exclude<RegressionThreshold, { kind: 'off' }> | undefined;
  if (unit === '%' && definition.scale !== 'ratio') threshold = { kind: 'relative', value: number / 100, text: `${worseSign}${digits}%` };
  else if (unit.toLowerCase() === 'pp' && definition.scale === 'ratio')
    threshold = { kind: 'points', value: number / 100, text: `${worseSign}${digits}pp` };
  else if (definition.scale === 'duration') {
    const ms = parseDurationMs(`${digits}${unit}`);
    if (ms !== undefined) threshold = { kind: 'absolute', value: ms, text: `${worseSign}${digits}${unit}` };
  }
  if (!threshold) return { error: `"${text}" does not fit ${metric}: write ${example}, or "off"` };
  if (!(threshold.value > 0 && Number.isFinite(threshold.value))) return { error: `"${text}" must be above 0: write ${example}` };
  if (threshold.kind === 'relative' && threshold.value >= 10) return { error: `"${text}" is above +1000 %: write ${example}` };
  if (threshold.kind === 'points' && threshold.value >= 1) return { error: `"${text}" is 100 points or more: write ${example}` };
  return threshold;
}

function thresholdField(metric: RegressionMetric) {
  return z
    .string()
    .max(32)
    .transform((text, ctx): RegressionThreshold => {
      const parsed = parseRegressionThreshold(metric, text);
      if ('error' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed;
    })
    .optional()
    .describe(`${REGRESSION_METRICS[metric].description}: smallest change that counts (default ${DEFAULT_REGRESSION_THRESHOLDS[metric]}).`);
}

export const regressionSchema = z
  .strictObject(
    Object.fromEntries(REGRESSION_METRIC_IDS.map((metric) => [metric, thresholdField(metric)])) as Record<
      RegressionMetric,
      ReturnType<typeof thresholdField>
    >,
  )
  .describe(
    'Practical significance for `grym-perf compare` and `run --baseline`: the smallest change of each metric that counts as a ' +
      'regression or an improvement ("+10%", "+5ms", "+1pp", or "off"); unnamed metrics take the defaults.',
  );

export type Regression = z.output<typeof regressionSchema>;

/** The threshold of every metric: the plan's, else the default. */
export function regressionThresholds(regression: Regression | undefined): Record<RegressionMetric, RegressionThreshold> {
  return Object.fromEntries(
    REGRESSION_METRIC_IDS.map((metric) => {
      const given = regression?.[metric];
      const resolved = given ?? parseRegressionThreshold(metric, DEFAULT_REGRESSION_THRESHOLDS[metric]);
      if ('error' in resolved) throw new Error(`default regression threshold of ${metric}: ${resolved.error}`);
      return [metric, resolved];
    }),
  ) as Record<RegressionMetric, RegressionThreshold>;
}
