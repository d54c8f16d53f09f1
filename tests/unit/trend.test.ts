/**
 * `grym-perf trend` on a seeded history: a step change found at the right run, runs from another
 * machine kept in a series of their own, timings of an untrustworthy generator left out,
 * interrupted runs skipped; and the noise it measures calibrating a comparison's thresholds.
 */
import { compareRuns } from '../../src/coordinator/comparison';
import { practicalThreshold } from '../../src/coordinator/comparison/practical-threshold';
import type { HistoryEntry } from '../../src/coordinator/history';
import { buildTrend } from '../../src/coordinator/trend/build-trend';
import { noiseCalibration } from '../../src/coordinator/trend/noise-calibration';
import { renderTrendText } from '../../src/coordinator/trend/render-trend-text';
import { trendChart } from '../../src/coordinator/trend/trend-chart';
import { sampleStandardNormal } from '../../src/coordinator/statistics';
import { NOISE_CALIBRATION_MIN_RUNS } from '../../src/shared/defaults';
import { parseRegressionThreshold, type RegressionThreshold } from '../../src/shared/regression-schema';
import { createRandom } from '../../src/shared/seeded-random';
import { keptRun, steppedHistory } from '../helpers/kept-runs';

/** The stepped history, and four runs on another machine in between: 60 ms there. Mixed in, they would be a change point. */
function seededHistory(): HistoryEntry[] {
  return [...steppedHistory(), ...[3, 7, 11, 15].map((index) => keptRun(index, { e2eP95Ms: 60, host: 'ci-7', name: 'ci7-run' }))];
}

const e2eP95 = (entries: HistoryEntry[], series = 0) => {
  const trend = buildTrend('smoke', '/tmp/history', entries);
  return { trend, metric: trend.series[series]!.phases[0]!.metrics.find((metric) => metric.metric === 'latency.e2e.p95')! };
};

test('a step in a seeded history is found at the run where it happened, with both levels', () => {
  const { metric } = e2eP95(seededHistory());
  expect(metric.points).toHaveLength(20);
  expect(metric.changePoints).toHaveLength(1);
  expect(metric.changePoints[0]).toMatchObject({ runId: 'smoke-run-12', position: 12 });
  expect(metric.changePoints[0]!.before).toBeCloseTo(100, -0.5);
  expect(metric.changePoints[0]!.after).toBeCloseTo(120, -0.5);
  expect(metric.changePoints[0]!.relativeChange).toBeGreaterThan(0.15);
  expect(metric.segments.map((segment) => [segment.fromRunId, segment.toRunId, segment.runs])).toEqual([
    ['smoke-run-00', 'smoke-run-11', 12],
    ['smoke-run-12', 'smoke-run-19', 8],
  ]);
  // The envelope is measured within the segments: the 3 % noise, not the 20 % step.
  expect(metric.envelope!.relativeSigma).toBeGreaterThan(0.01);
  expect(metric.envelope!.relativeSigma).toBeLessThan(0.06);
  expect(metric.envelope!.runs).toBe(20);
});

test("another machine's runs are a series of their own, said with what differs, never mixed in", () => {
  const { trend } = e2eP95(seededHistory());
  expect(trend.series).toHaveLength(2);
  const [main, other] = trend.series;
  expect(main!.runs.every((run) => run.runId.startsWith('smoke-run-'))).toBe(true);
  expect(main!.differences).toEqual([]);
  expect(other!.runs).toHaveLength(4);
  expect(other!.differences.join('\n')).toContain('harness.hosts: ["ci-7"] → ["host-0"]');
  expect(other!.phases[0]!.metrics.find((metric) => metric.metric === 'latency.e2e.p95')!.changePoints).toEqual([]);
  const text = renderTrendText(trend);
  expect(text).toContain('series 2 of 2: fingerprint');
  expect(text).toContain('kept apart from series 1, its environment or workload differs: harness.hosts: ["ci-7"] → ["host-0"]');
  expect(text).toMatch(/↳ change point at run smoke-run-12 \(#13\): \d+\.\d ms → \d+\.\d ms \(\+\d+\.\d %, Welch p = /);
});

test('timings of an untrustworthy generator are left out, its counts are not; interrupted runs are skipped', () => {
  const entries = seededHistory();
  entries.push(keptRun(20, { e2eP95Ms: 400, untrusted: true }), keptRun(21, { e2eP95Ms: 300, aborted: true }));
  const { trend, metric } = e2eP95(entries);
  expect(metric.points.at(-1)).toMatchObject({ runId: 'smoke-run-20', value: null, excluded: 'its load generator was not trustworthy' });
  expect(metric.changePoints.map((point) => point.runId)).toEqual(['smoke-run-12']);
  const errorRate = trend.series[0]!.phases[0]!.metrics.find((one) => one.metric === 'requests.errorRate')!;
  expect(errorRate.points.at(-1)).toMatchObject({ runId: 'smoke-run-20', value: 0, excluded: null });
  expect(trend.skipped).toEqual([{ runId: 'smoke-run-21', reason: 'interrupted: its phases stopped early' }]);
  expect(renderTrendText(trend)).toMatch(/latency\.e2e\.p95 +20 \(\+1 left out\)/);
});

test('the chart: one x per run, the change point marked where it happened, the level dashed, the envelope shaded', () => {
  const { metric } = e2eP95(seededHistory());
  const chart = trendChart('c', metric)!;
  expect(chart.x).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
  expect(chart.marks).toEqual([{ x: 13, label: expect.stringMatching(/^change \+\d+\.\d %$/), color: expect.any(String) }]);
  const level = chart.series.find((series) => series.label === 'segment level')!;
  expect(new Set(level.values.slice(0, 12)).size).toBe(1);
  expect(new Set(level.values.slice(12)).size).toBe(1);
  expect(level.values[12]! / level.values[0]!).toBeGreaterThan(1.15);
  expect(chart.yBands).toHaveLength(1);
  expect(chart.yBands[0]!.from).toBeLessThan(level.values[19]!);
  expect(chart.yBands[0]!.to).toBeGreaterThan(level.values[19]!);
});

describe('thresholds calibrated by the noise of the history', () => {
  const tenPercent = parseRegressionThreshold('latency.e2e.p95', '+10%') as RegressionThreshold;
  const evidence = (suggested: number, latestSegmentRuns = 9) => ({ suggested, runs: 9, latestSegmentRuns });

  test.each([
    ['no history: the default', 'latency.e2e.p95', undefined, undefined, '+10%', 'default', 'default +10%'],
    [
      'quieter than the default: the default',
      'latency.e2e.p95',
      undefined,
      evidence(0.06),
      '+10%',
      'default',
      'default +10% (the noise of 9 earlier runs needs only +6%)',
    ],
    [
      'noisier: widened, rounded up to a whole percent',
      'latency.e2e.p95',
      undefined,
      evidence(0.131),
      '+14%',
      'history',
      'default +10%, widened to +14% by the noise of 9 earlier runs',
    ],
    [
      'throughput widens downwards',
      'throughput.rps',
      undefined,
      evidence(0.25),
      '-25%',
      'history',
      'default -10%, widened to -25% by the noise of 9 earlier runs',
    ],
    [
      `fewer than ${NOISE_CALIBRATION_MIN_RUNS} runs at the current level: the default`,
      'latency.e2e.p95',
      undefined,
      evidence(0.3, 4),
      '+10%',
      'default',
      `default +10% (4 earlier runs at the current level; ${NOISE_CALIBRATION_MIN_RUNS} calibrate it)`,
    ],
    ['a ratio keeps its default', 'requests.errorRate', undefined, evidence(0.5), '+1pp', 'default', 'default +1pp'],
    ["the plan's own is never changed", 'latency.e2e.p95', tenPercent, evidence(0.5), '+10%', 'plan', "plan's regression: +10%"],
  ] as const)('%s', (_, metric, planned, noise, text, source, note) => {
    expect(practicalThreshold(metric, planned, noise)).toMatchObject({ threshold: { text }, source, note });
  });

  test('compare with the calibration of a noisy history: the default p95 widened and said so, the plan-set p99 kept', () => {
    // Ten earlier runs of unchanged code, 8 % noise; NEW 15 % above the level: beyond the default 10 %, within the noise.
    const uniform = createRandom(5);
    const earlier = Array.from({ length: 10 }, (_, index) =>
      keptRun(index, { e2eP95Ms: 100 * (1 + 0.08 * sampleStandardNormal(uniform)) }),
    );
    const regression = { 'latency.e2e.p99': parseRegressionThreshold('latency.e2e.p99', '+5%') as RegressionThreshold };
    const base = keptRun(10, { e2eP95Ms: 100, regression });
    const next = keptRun(11, { e2eP95Ms: 115, regression });
    const calibration = noiseCalibration([...earlier, base]);
    const evidence = calibration('smoke', 'latency.e2e.p95')!;
    expect(evidence.runs).toBe(11);
    expect(evidence.suggested).toBeGreaterThan(0.15);

    const comparison = compareRuns(base, next, calibration);
    const rows = Object.fromEntries(comparison.phases[0]!.metrics.map((metric) => [metric.metric, metric]));
    const percent = Math.ceil(evidence.suggested * 100 - 1e-9);
    expect(rows['latency.e2e.p95']).toMatchObject({
      threshold: { kind: 'relative', value: percent / 100, text: `+${percent}%` },
      thresholdSource: 'history',
      thresholdNote: `default +10%, widened to +${percent}% by the noise of 11 earlier runs`,
    });
    expect(rows['latency.e2e.p99']).toMatchObject({ threshold: { text: '+5%' }, thresholdSource: 'plan' });
    expect(comparison.widened).toBeGreaterThanOrEqual(1);
    // Without the history, the same pair is judged on the default.
    const alone = compareRuns(base, next).phases[0]!.metrics.find((metric) => metric.metric === 'latency.e2e.p95')!;
    expect(alone).toMatchObject({ threshold: { text: '+10%' }, thresholdSource: 'default' });
  });

  test('runs on another machine or of another workload do not calibrate', () => {
    const uniform = createRandom(5);
    const elsewhere = Array.from({ length: 10 }, (_, index) =>
      keptRun(index, { e2eP95Ms: 100 * (1 + 0.3 * sampleStandardNormal(uniform)), host: 'ci-7' }),
    );
    const next = keptRun(11, { e2eP95Ms: 100 });
    // noiseCalibration measures what it is given; loadNoiseCalibration gives it only runs like NEW.
    const like = elsewhere.filter((entry) => entry.fingerprint.hash === next.fingerprint.hash && entry.planHash === next.planHash);
    expect(like).toEqual([]);
    expect(noiseCalibration(like)('smoke', 'latency.e2e.p95')).toBeUndefined();
  });
});
