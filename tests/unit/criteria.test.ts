import { evaluateCriterion, parseCriterion, type Criterion } from '../../src/shared/criteria';
import type { PhaseMetrics } from '../../src/shared/phase-metrics';
import { parseBytes, parseDurationMs, parseRatio } from '../../src/shared/units';
import { computePhaseMetrics } from '../../src/coordinator/metrics/compute-phase-metrics';
import { emptyShardResult } from '../../src/shared/shard-result';
import { parsePlan } from '../../src/shared/parse-plan';

const phase = parsePlan(
  'name: p\ntarget: { baseUrl: "http://127.0.0.1:1/v1" }\nphases: [{ name: a, scenario: requests, models: [m], load: { requests: 1 } }]',
).phases[0]!;

function metricsWith(edit: (metrics: PhaseMetrics) => void): PhaseMetrics {
  const metrics = structuredClone(computePhaseMetrics(emptyShardResult(), phase));
  edit(metrics);
  return metrics;
}

describe('units', () => {
  test.each([
    ['250ms', 250],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['800us', 0.8],
  ])('duration %s', (text, ms) => expect(parseDurationMs(text)).toBe(ms));
  test.each([
    ['100MB', 1e8],
    ['14GB', 14e9],
    ['512MiB', 512 * 1024 ** 2],
  ])('size %s', (text, bytes) => expect(parseBytes(text)).toBe(bytes));
  test('ratios and rejects', () => {
    expect(parseRatio('95%')).toBe(0.95);
    expect(parseRatio('95')).toBeUndefined();
    expect(parseDurationMs('5 apples')).toBeUndefined();
    expect(parseBytes('5s')).toBeUndefined();
  });
});

describe('criteria', () => {
  test('parses operators and units into base units', () => {
    expect(parseCriterion('latency.e2e.p95', '<= 1.5s')).toEqual({
      metric: 'latency.e2e.p95',
      op: '<=',
      threshold: 1500,
      kind: 'duration',
      text: '<= 1.5s',
    });
    expect(parseCriterion('memory.target.peak', '< 14GB')).toMatchObject({ threshold: 14e9, kind: 'bytes' });
    expect(parseCriterion('context.preservation', '> 95%')).toMatchObject({ threshold: 0.95, kind: 'ratio', op: '>' });
    expect(parseCriterion('concurrency.mean', '>= 9.5')).toMatchObject({ threshold: 9.5, kind: 'count' });
  });

  test('a criterion that holds passes, with its margin', () => {
    const criterion = parseCriterion('latency.e2e.p95', '< 1s') as Criterion;
    const result = evaluateCriterion(
      criterion,
      metricsWith((m) => (m.latency.e2e = { count: 1, min: 1, p10: 800, mean: 800, p50: 800, p90: 800, p95: 800, p99: 800, max: 800 })),
    );
    expect(result).toMatchObject({ passed: true, value: 800, margin: -200 });
  });

  test('a broken criterion says by how much', () => {
    const criterion = parseCriterion('context.preservation', '> 95%') as Criterion;
    const result = evaluateCriterion(
      criterion,
      metricsWith((m) => (m.context.preservation = 0.8)),
    );
    expect(result.passed).toBe(false);
    expect(result.margin).toBeCloseTo(-0.15);
    expect(result.verdict).toBe('80.00 % is not > 95.00 % (under by 15.00 %)');
  });

  test('boundaries follow the operator', () => {
    const at = metricsWith((m) => (m.requests.errorRate = 0.01));
    expect(evaluateCriterion(parseCriterion('requests.errorRate', '< 1%') as Criterion, at).passed).toBe(false);
    expect(evaluateCriterion(parseCriterion('requests.errorRate', '<= 1%') as Criterion, at).passed).toBe(true);
  });

  test('a metric without data fails: nothing was shown', () => {
    const result = evaluateCriterion(
      parseCriterion('context.accuracy', '> 90%') as Criterion,
      metricsWith(() => undefined),
    );
    expect(result).toMatchObject({ passed: false, value: null });
    expect(result.verdict).toContain('no data');
  });
});
