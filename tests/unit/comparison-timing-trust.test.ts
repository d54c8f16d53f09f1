/**
 * What a comparison judges when a run's load generator was not trustworthy (its timings measured
 * the machine), and which windows throughput is judged on.
 */
import { compareRuns } from '../../src/coordinator/comparison';
import { comparePhase } from '../../src/coordinator/comparison/compare-phase';
import { isTimingMetric } from '../../src/coordinator/comparison/timing-trust';
import { buildHistoryEntry } from '../../src/coordinator/history';
import type { TimelinePoint } from '../../src/shared/phase-timeline';
import { practicalThreshold, type PracticalThreshold } from '../../src/coordinator/comparison/practical-threshold';
import { REGRESSION_METRIC_IDS, type RegressionMetric } from '../../src/shared/regression-schema';
import type { PhaseReport, RunReport } from '../../src/shared/run-report';
import { fullSampleReport } from '../helpers/sample-report';

const BUSY =
  'the machine was busy with other processes: they used 1.62 of 2 cores (steal 0.00) while grym-perf used 0.30: rerun on a quieter machine';

/** The sample report with phase `ramp` judged untrustworthy when `untrusted`. */
function report(runId: string, untrusted: boolean): RunReport {
  const sample = fullSampleReport();
  const ramp = sample.phases.find((phase) => phase.name === 'ramp')!;
  if (untrusted) ramp.metrics.generator = { ...ramp.metrics.generator, trustworthy: false, cause: 'machine', warnings: [BUSY] };
  return { ...sample, runId };
}

const rampOf = (base: boolean, next: boolean) => {
  const comparison = compareRuns(buildHistoryEntry(report('base', base), []), buildHistoryEntry(report('new', next), []));
  return { comparison, ramp: comparison.phases.find((phase) => phase.phase === 'ramp')! };
};

test.each([
  ['latency.e2e.p95', true],
  ['latency.ttft.p50', true],
  ['switch.time.p50', true],
  ['throughput.rps', true],
  ['stability', true],
  ['requests.errorRate', false],
  ['context.preservation', false],
] as const)('%s is a timing: %p', (metric, timing) => {
  expect(isTimingMetric(metric)).toBe(timing);
});

test('both generators trustworthy: throughput is judged, nothing is said about the generators', () => {
  const { comparison, ramp } = rampOf(false, false);
  const throughput = ramp.metrics.find((metric) => metric.metric === 'throughput.rps')!;
  expect(throughput.reason).not.toMatch(/load generator/);
  expect(throughput.interval).not.toBeNull();
  expect(comparison.warnings.join('\n')).not.toMatch(/"ramp".*load generator/);
});

test("NEW's generator untrustworthy: its timings are inconclusive with the report's reason, counts are still judged, and a warning says so", () => {
  const trusted = rampOf(false, false).ramp;
  const { comparison, ramp } = rampOf(false, true);
  for (const metric of ramp.metrics) {
    if (isTimingMetric(metric.metric)) {
      expect({ metric: metric.metric, verdict: metric.verdict, interval: metric.interval }).toEqual({
        metric: metric.metric,
        verdict: 'inconclusive',
        interval: null,
      });
      expect(metric.reason).toBe("NEW's load generator was not trustworthy: timings not judged");
    } else {
      // Judged as before: the same verdict and interval as between two trusted runs.
      const before = trusted.metrics.find((other) => other.metric === metric.metric)!;
      expect({ verdict: metric.verdict, interval: metric.interval }).toEqual({ verdict: before.verdict, interval: before.interval });
    }
  }
  expect(ramp.metrics.some((metric) => !isTimingMetric(metric.metric))).toBe(true);
  expect(comparison.warnings).toContain(`phase "ramp": NEW's load generator was not trustworthy (${BUSY}): timings not judged`);
  // The other phases' generators kept up: their throughput is judged.
  const saturation = comparison.phases.find((phase) => phase.phase === 'saturation')!;
  expect(saturation.metrics.find((metric) => metric.metric === 'throughput.rps')!.reason).not.toMatch(/load generator/);
});

test('both untrustworthy: said of both', () => {
  const { comparison, ramp: both } = rampOf(true, true);
  expect(both.metrics.find((metric) => metric.metric === 'throughput.rps')!.reason).toBe(
    'the load generators of BASE and NEW were not trustworthy: timings not judged',
  );
  expect(comparison.warnings).toContain(
    `phase "ramp": the load generators of BASE and NEW were not trustworthy (${BUSY}): timings not judged`,
  );
});

/** Every metric's default threshold, no history. */
const defaults = () =>
  Object.fromEntries(REGRESSION_METRIC_IDS.map((metric) => [metric, practicalThreshold(metric, undefined, undefined)])) as Record<
    RegressionMetric,
    PracticalThreshold
  >;

describe('throughput windows', () => {
  /** A phase whose timeline is `counts` completions per full 250 ms window, then a short last one. */
  function phaseWith(counts: number[]): PhaseReport {
    const phase = structuredClone(fullSampleReport().phases[0]!);
    const template = phase.metrics.timeline.points[0]!;
    const points: TimelinePoint[] = counts.map((ok, index) => ({
      ...template,
      tMs: index * 250,
      spanMs: 250,
      ok,
      errors: 0,
      errorsByClass: {},
    }));
    points.push({ ...template, tMs: counts.length * 250, spanMs: 40, ok: 3, errors: 0, errorsByClass: {} });
    phase.metrics.timeline = { windowMs: 250, points };
    return phase;
  }

  test('windows before the first request ended (the pipeline filling) are not a throughput of zero', () => {
    // Replies take 500 ms: the first two windows of every run end nothing. Kept, ~1 % of bootstrap
    // medians of these 12 windows were 0, and an A/A pair was inconclusive ("BASE is 0").
    const counts = [0, 0, 50, 49, 51, 50, 50, 50, 49, 51, 50, 50];
    const thresholds = defaults();
    const side = { report: phaseWith(counts), distributions: null };
    const throughput = comparePhase(side, { report: phaseWith(counts), distributions: null }, thresholds).metrics.find(
      (metric) => metric.metric === 'throughput.rps',
    )!;
    expect(throughput).toMatchObject({ verdict: 'unchanged', samples: [10, 10] });
    expect(throughput.interval![0]).toBeGreaterThan(-0.05);
    expect(throughput.interval![1]).toBeLessThan(0.05);
  });

  test('a zero after the first completion is a throughput of zero, and counts', () => {
    const counts = [0, 50, 0, 50, 50, 50, 50, 50, 50, 50, 50, 50];
    const thresholds = defaults();
    const throughput = comparePhase(
      { report: phaseWith(counts), distributions: null },
      { report: phaseWith(counts), distributions: null },
      thresholds,
    ).metrics.find((metric) => metric.metric === 'throughput.rps')!;
    expect(throughput.samples).toEqual([11, 11]);
  });
});

test('every judged metric is either a timing or a count', () => {
  expect(REGRESSION_METRIC_IDS.filter((metric) => !isTimingMetric(metric))).toEqual(['requests.errorRate', 'context.preservation']);
});
