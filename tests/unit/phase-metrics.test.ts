import { computePhaseMetrics } from '../../src/coordinator/metrics/compute-phase-metrics';
import { leakVerdict } from '../../src/coordinator/metrics/leak-verdict';
import { computeStability } from '../../src/coordinator/metrics/stability';
import { emptyWindow } from '../../src/shared/window-series';
import { sumPrometheusMetric } from '../../src/worker/memory/read-target-memory';
import { createHistogram, encodeHistogram } from '../../src/shared/histogram';
import { parsePlan } from '../../src/shared/parse-plan';
import { emptyShardResult, mergeShardResults, type ShardResult } from '../../src/shared/shard-result';

const phase = parsePlan(
  'name: p\ntarget: { baseUrl: "http://127.0.0.1:1/v1" }\nphases: [{ name: a, scenario: requests, models: [m], load: { concurrency: 4, duration: 10s, warmup: 1s } }]',
).phases[0]!;

/** A shard that recorded the given e2e latencies (ms), all successful. */
function shardWith(latenciesMs: number[], extra: Partial<ShardResult> = {}): ShardResult {
  const histogram = createHistogram();
  for (const ms of latenciesMs) histogram.recordValue(ms * 1000);
  const result = emptyShardResult();
  result.histograms.e2eUs = encodeHistogram(histogram);
  result.requests.ok = latenciesMs.length;
  return { ...result, ...extra };
}

describe('phase metrics', () => {
  test('percentiles come from merged histograms, exactly as if recorded in one place', () => {
    const fast = Array.from({ length: 90 }, (_, i) => 100 + i); // 100..189 ms
    const slow = Array.from({ length: 10 }, (_, i) => 1000 + i * 100); // 1000..1900 ms
    const merged = computePhaseMetrics(mergeShardResults([shardWith(fast), shardWith(slow)]), phase);
    const single = computePhaseMetrics(shardWith([...fast, ...slow]), phase);
    expect(merged.latency.e2e).toEqual(single.latency.e2e);
    expect(merged.latency.e2e!.count).toBe(100);
    // Averaging the shards' p95s would give ~(189+1900)/2; the true p95 is in the slow tail.
    expect(merged.latency.e2e!.p95).toBeGreaterThanOrEqual(1400);
    expect(merged.latency.e2e!.p95).toBeLessThanOrEqual(1501);
    // The 50th of 100 values is 149 ms; HdrHistogram keeps 3 significant digits.
    expect(Math.abs(merged.latency.e2e!.p50 - 149)).toBeLessThan(0.2);
  });

  test('rates, error rate, concurrency and context ratios follow their definitions', () => {
    const shard = shardWith([100, 200], {
      firstStartMs: 1_000,
      lastEndMs: 3_000,
      requests: { ok: 18, good: 15, errors: 2, byClass: { http_500: 2 }, samples: { http_500: 'injected failure' } },
      concurrency: { inFlightIntegralMs: 7_000, peak: 4 },
      context: {
        probes: 10,
        recalled: 7,
        crossSwitchProbes: 4,
        crossSwitchRecalled: 4,
        byDistance: { '3': { probes: 6, recalled: 6 }, '9': { probes: 4, recalled: 1 } },
      },
      tokens: { output: 400, input: 1000, fromServer: 18, estimated: 0, cache: { requests: 0, input: 0, cached: 0 } },
    });
    const metrics = computePhaseMetrics(shard, phase);
    expect(metrics.durationMs).toBe(2_000);
    expect(metrics.throughput.requestsPerSecond).toBe(9);
    expect(metrics.throughput.outputTokensPerSecond).toBe(200);
    expect(metrics.requests).toEqual({
      total: 20,
      ok: 18,
      errors: 2,
      errorRate: 0.1,
      good: 15,
      goodRatio: 0.75,
      byClass: { http_500: 2 },
      samples: { http_500: 'injected failure' },
    });
    expect(metrics.throughput.goodput).toBe(7.5);
    expect(metrics.concurrency).toEqual({ requested: 4, mean: 3.5, peak: 4 });
    expect(metrics.context.preservation).toBe(0.7);
    expect(metrics.context.accuracy).toBe(1);
    expect(metrics.context.byDistance).toEqual([
      { distance: 3, probes: 6, recalled: 6 },
      { distance: 9, probes: 4, recalled: 1 },
    ]);
    expect(metrics.tokens.source).toBe('server');
  });

  test('memory growth uses the measured part, and the same-model cycle samples for switches', () => {
    const shard = shardWith([100]);
    shard.memory.target = {
      w: [
        { tMs: -50, bytes: 0 },
        { tMs: 1000, bytes: 5e9 },
        { tMs: 1500, bytes: 5e9 },
        { tMs: 2000, bytes: 5.2e9 },
      ],
    };
    shard.memory.harnessRss = {
      w: [
        { tMs: 1000, bytes: 100e6 },
        { tMs: 2000, bytes: 100e6 },
      ],
    };
    const metrics = computePhaseMetrics(shard, phase);
    expect(metrics.memory.target.peak).toBe(5.2e9);
    // Mean of the last vs the first samples of the measured part; the load before it does not count.
    expect(metrics.memory.target.growth).toBeCloseTo(0.2e9, -3);
    shard.memory.targetPerCycle = {
      w: [
        { tMs: 1, bytes: 8e9 },
        { tMs: 2, bytes: 8.05e9 },
        { tMs: 3, bytes: 8.1e9 },
      ],
    };
    expect(computePhaseMetrics(shard, phase).memory.target.growth).toBeCloseTo(0.1e9, -3);
  });
});

describe('stability', () => {
  type Counts = Record<number, { ok: number; errors: number }>;
  const steady = (count: number): Counts => Object.fromEntries(Array.from({ length: count }, (_, i) => [i, { ok: 10, errors: 0 }]));
  const judged = (counts: Counts) =>
    computeStability(
      { windowMs: 1000, originEpochMs: 0, windows: Object.entries(counts).map(([index, c]) => ({ ...emptyWindow(Number(index)), ...c })) },
      phase,
    );

  test('steady windows are all stable (the partial last window is left out)', () => {
    const verdict = judged(steady(11));
    expect(verdict.stability).toEqual({ value: 1, windows: 10, stableWindows: 10, windowMs: 1000 });
    expect([verdict.isStable(0), verdict.isStable(9), verdict.isStable(10)]).toEqual([true, true, null]);
  });

  test('a stall (a window with no completions) is unstable even without errors', () => {
    const windows = steady(11);
    delete windows[4];
    const verdict = judged(windows);
    expect(verdict.stability.value).toBeCloseTo(0.9);
    expect(verdict.isStable(4)).toBe(false);
  });

  test('an error burst above the window error share is unstable', () => {
    const windows = steady(11);
    windows[2] = { ok: 9, errors: 1 };
    expect(judged(windows).stability).toMatchObject({ stableWindows: 9, windows: 10 });
  });

  test('a throughput collapse below half the median window is unstable', () => {
    const windows = steady(11);
    windows[6] = { ok: 4, errors: 0 };
    windows[7] = { ok: 5, errors: 0 };
    expect(judged(windows).stability.stableWindows).toBe(9);
  });

  test('no windows, no verdict', () => {
    expect(judged({}).stability.value).toBeNull();
  });

  const phaseOf = (load: string) =>
    parsePlan(
      `name: p\ntarget: { baseUrl: "http://127.0.0.1:1/v1" }\nphases: [{ name: a, scenario: requests, models: [m], load: ${load} }]`,
    ).phases[0]!;
  const series = (windows: Array<Partial<ReturnType<typeof emptyWindow>>>) => ({
    windowMs: 1000,
    originEpochMs: 0,
    windows: windows.map((window, index) => ({ ...emptyWindow(index), inFlightMs: 4000, ...window })),
  });

  test('a short run against a perfect server reads 100 %: the window the duration ends in is held to its share of the time, later ones left out', () => {
    // 2.5 s measured: windows 0 and 1 whole, window 2 half, window 3 only requests finishing after the end.
    const verdict = computeStability(
      series([{ ok: 100 }, { ok: 100 }, { ok: 50, inFlightMs: 2000 }, { ok: 4, inFlightMs: 10 }]),
      phaseOf('{ concurrency: 4, duration: 2500ms }'),
    );
    expect(verdict.stability).toEqual({ value: 1, windows: 3, stableWindows: 3, windowMs: 1000 });
    expect(verdict.isStable(3)).toBeNull();
  });

  test('a phase that runs out of requests before its duration ends at its last request: that window is held to its share too', () => {
    // 150 requests capped by a 60 s duration, the last one ending 3.29 s in (seen against llama-server:
    // 44, 43, 48 completions, then 15 in the last 291 ms, which was judged as a whole second).
    const origin = 1_000_000;
    const ranOut = { ...series([{ ok: 44 }, { ok: 43 }, { ok: 48 }, { ok: 15, inFlightMs: 1100 }]), originEpochMs: origin };
    const phase = phaseOf('{ concurrency: 4, requests: 150, duration: 60s }');
    expect(computeStability(ranOut, phase, origin + 3291).stability).toEqual({ value: 1, windows: 4, stableWindows: 4, windowMs: 1000 });
    // A stall in that last stretch still shows: 2 completions in 291 ms where the others did 44 a second.
    const stalled = { ...ranOut, windows: ranOut.windows.map((window) => (window.index === 3 ? { ...window, ok: 2 } : window)) };
    expect(computeStability(stalled, phase, origin + 3291).isStable(3)).toBe(false);
  });

  test('the first window is held to its share of the requests in flight: a start under way is stable, a slow start with them all in flight is not', () => {
    const shortPhase = phaseOf('{ concurrency: 4, duration: 5s }');
    const rampingStart = series([{ ok: 30, inFlightMs: 1200 }, { ok: 100 }, { ok: 100 }, { ok: 100 }, { ok: 100 }]);
    expect(computeStability(rampingStart, shortPhase).stability.value).toBe(1);
    const slowStart = series([{ ok: 30 }, { ok: 100 }, { ok: 100 }, { ok: 100 }, { ok: 100 }]);
    expect(computeStability(slowStart, shortPhase).isStable(0)).toBe(false);
  });
});

describe('leak verdict', () => {
  const series = (bytesAt: (second: number) => number, seconds = 20) =>
    Array.from({ length: seconds }, (_, s) => ({ tMs: s * 1000, bytes: bytesAt(s) }));

  test('a steady climb past the threshold is a leak; its slope is reported', () => {
    const verdict = leakVerdict([series((s) => 1e9 + s * 5e6)], 50e6);
    expect(verdict.verdict).toBe('leak');
    expect(verdict.slopeBytesPerSecond).toBeCloseTo(5e6, -2);
  });

  test('noise, a one-off step down, or a climb under the threshold is not', () => {
    expect(leakVerdict([series((s) => 1e9 + (s % 2) * 40e6)], 50e6).verdict).toBe('stable');
    expect(leakVerdict([series((s) => (s < 10 ? 2e9 : 1e9))], 50e6).verdict).toBe('stable');
    expect(leakVerdict([series((s) => 1e9 + s * 1e6)], 50e6).verdict).toBe('stable');
  });

  test('too few samples give no verdict', () => {
    expect(leakVerdict([series((s) => s * 1e9, 3)], 50e6)).toEqual({
      slopeBytesPerSecond: null,
      interceptBytes: null,
      verdict: 'insufficient-data',
    });
  });
});

test('Prometheus text: samples of the metric summed, labels matched, other metrics ignored', () => {
  const text = [
    '# HELP process_resident_memory_bytes Resident memory.',
    'process_resident_memory_bytes 1.5e9',
    'vllm:gpu_cache_usage_perc{model_name="a"} 0.25',
    'vllm:gpu_cache_usage_perc{model_name="b"} 0.5',
    'process_resident_memory_bytes_total 7',
  ].join('\n');
  expect(sumPrometheusMetric(text, 'process_resident_memory_bytes')).toBe(1.5e9);
  expect(sumPrometheusMetric(text, 'vllm:gpu_cache_usage_perc')).toBe(0.75);
  expect(sumPrometheusMetric(text, 'vllm:gpu_cache_usage_perc{model_name="b"}')).toBe(0.5);
  expect(sumPrometheusMetric(text, 'missing_metric')).toBeNull();
});
