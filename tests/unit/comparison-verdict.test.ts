/** The verdict rules of `compare` and the `regression:` thresholds they read. */
import { judgeChange, overallVerdict } from '../../src/coordinator/comparison';
import { parseRegressionThreshold, regressionSchema, regressionThresholds } from '../../src/shared/regression-schema';

describe('judgeChange (larger is worse, threshold 10 %)', () => {
  test.each([
    ['significant and beyond the threshold', 0.2, [0.15, 0.25], 'regressed'],
    ['beyond the threshold but not significant', 0.2, [-0.01, 0.4], 'inconclusive'],
    ['significant but small, interval within the band', 0.03, [0.01, 0.05], 'unchanged'],
    ['significant but the interval reaches past the band', 0.08, [0.05, 0.12], 'inconclusive'],
    ['better, significant and beyond', -0.2, [-0.25, -0.15], 'improved'],
    ['nothing, narrow interval', 0, [-0.02, 0.02], 'unchanged'],
  ] as const)('%s', (_, change, interval, verdict) => {
    expect(judgeChange(change, interval, 0.1, 1)).toBe(verdict);
  });

  test('for a metric where smaller is worse, a drop is the regression', () => {
    expect(judgeChange(-0.2, [-0.25, -0.15], 0.1, -1)).toBe('regressed');
    expect(judgeChange(0.2, [0.15, 0.25], 0.1, -1)).toBe('improved');
  });
});

test('the whole comparison: regressed > improved > inconclusive > unchanged, and nothing judged is inconclusive', () => {
  expect(overallVerdict(['unchanged', 'improved', 'regressed'])).toBe('regressed');
  expect(overallVerdict(['unchanged', 'inconclusive', 'improved'])).toBe('improved');
  expect(overallVerdict(['unchanged', 'inconclusive'])).toBe('inconclusive');
  expect(overallVerdict(['unchanged', 'unchanged'])).toBe('unchanged');
  expect(overallVerdict([])).toBe('inconclusive');
});

describe('regression thresholds', () => {
  test('percent, duration, percentage points and off', () => {
    expect(parseRegressionThreshold('latency.e2e.p95', '+10%')).toEqual({ kind: 'relative', value: 0.1, text: '+10%' });
    expect(parseRegressionThreshold('latency.ttft.p95', '15ms')).toEqual({ kind: 'absolute', value: 15, text: '+15ms' });
    expect(parseRegressionThreshold('context.preservation', '-2pp')).toMatchObject({ kind: 'points', value: 0.02 });
    expect(parseRegressionThreshold('stability', 'off')).toMatchObject({ kind: 'off' });
  });

  test('the wrong direction, a unit that does not fit, or nonsense is refused with the fix', () => {
    expect(parseRegressionThreshold('latency.e2e.p95', '-10%')).toEqual({
      error: 'latency.e2e.p95 gets worse going up: write "+10%" or "+5ms"',
    });
    expect(parseRegressionThreshold('requests.errorRate', '+10%')).toMatchObject({ error: expect.stringContaining('pp') });
    expect(parseRegressionThreshold('throughput.rps', '-5ms')).toMatchObject({ error: expect.stringContaining('does not fit') });
    expect(parseRegressionThreshold('latency.e2e.p50', 'a lot')).toMatchObject({ error: expect.stringContaining('not a threshold') });
    const parsed = regressionSchema.safeParse({ 'latency.e2e.p95': '-10%', 'latency.e2e.p96': '+1%' });
    expect(parsed.success).toBe(false);
  });

  test('unnamed metrics take the defaults', () => {
    const thresholds = regressionThresholds(regressionSchema.parse({ 'latency.e2e.p95': '+25%' }));
    expect(thresholds['latency.e2e.p95']).toMatchObject({ kind: 'relative', value: 0.25 });
    expect(thresholds['latency.e2e.p99']).toMatchObject({ kind: 'relative', value: 0.2 });
    expect(thresholds['requests.errorRate']).toMatchObject({ kind: 'points', value: 0.01 });
  });
});
