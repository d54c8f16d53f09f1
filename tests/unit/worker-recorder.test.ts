/**
 * The recorder: outcomes into histograms (integer microseconds) and counters, measured-span rules,
 * windows, concurrency, roles and probes, as the coordinator reads them from a `ShardResult`.
 */
import { decodeHistogram } from '../../src/shared/histogram';
import type { HistogramName, ShardResult } from '../../src/shared/shard-result';
import { Recorder } from '../../src/worker/recorder';
import type { RequestFailure, RequestSuccess } from '../../src/worker/targets/llm-target';

const origin = performance.timeOrigin;
// Measured from 10 s to 70 s after the thread's time origin, in 1 s windows.
const options = { measureFromEpochMs: origin + 10_000, measureUntilEpochMs: origin + 70_000, windowMs: 1000, requestedConcurrency: 2 };

/** A streamed reply starting at `startMs` (performance.now() ms): first content after `ttftMs`, then one chunk every `gapMs`. */
function streamed(startMs: number, tokens: number, ttftMs: number, gapMs: number, extra: Partial<RequestSuccess> = {}): RequestSuccess {
  const chunks = Array.from({ length: tokens }, (_, index) => startMs + ttftMs + index * gapMs);
  return {
    ok: true,
    startMs,
    firstContentMs: chunks[0] ?? null,
    endMs: chunks.at(-1) ?? startMs,
    contentChunkTimesMs: chunks,
    content: 'x '.repeat(tokens).trim(),
    outputTokens: tokens,
    inputTokens: 7,
    usageFromServer: true,
    ...extra,
  };
}

function failed(startMs: number, errorClass: RequestFailure['errorClass']): RequestFailure {
  return { ok: false, startMs, endMs: startMs + 5, errorClass, message: `${errorClass} at ${startMs}` };
}

function record(recorder: Recorder, outcome: RequestSuccess | RequestFailure, role?: 'plain' | 'switch' | 'warm') {
  recorder.started();
  recorder.record(outcome, { model: 'm', conversation: 'c1', role });
}

const histogram = (result: ShardResult, name: HistogramName) => decodeHistogram(result.histograms[name]);

/** HdrHistogram keeps 3 significant digits: a recorded value reads back within 0.1 %. */
function expectMicros(actual: number, expectedUs: number) {
  expect(Math.abs(actual - expectedUs)).toBeLessThanOrEqual(expectedUs * 0.001 + 1);
}

describe('recorder', () => {
  test('only requests starting inside the measured span (after warm-up, before cool-down) are measured', () => {
    const recorder = new Recorder(options);
    expect(recorder.isMeasuring(origin + 9_999)).toBe(false);
    expect(recorder.isMeasuring(origin + 10_000)).toBe(true);
    expect(recorder.isMeasuring(origin + 69_999)).toBe(true);
    expect(recorder.isMeasuring(origin + 70_000)).toBe(false);
  });

  test('prompt tokens the server served from its cache are counted only over the answers that said so', () => {
    const recorder = new Recorder(options);
    record(recorder, streamed(10_000, 3, 20, 5, { inputTokens: 100, cachedInputTokens: 60 }));
    record(recorder, streamed(10_100, 3, 20, 5, { inputTokens: 50 }));
    expect(recorder.finish().tokens).toMatchObject({ input: 150, cache: { requests: 1, input: 100, cached: 60 } });
  });

  test('a streamed reply gives e2e, TTFT, TPOT and inter-token gaps in microseconds, and token counts', () => {
    const recorder = new Recorder(options);
    // 11 tokens: first after 50 ms, then every 10 ms: e2e 150 ms, TPOT (150 - 50) / 10 = 10 ms.
    record(recorder, streamed(10_000, 11, 50, 10));
    const result = recorder.finish();
    expectMicros(histogram(result, 'e2eUs').maxValue, 150_000);
    expectMicros(histogram(result, 'ttftUs').maxValue, 50_000);
    expectMicros(histogram(result, 'tpotUs').maxValue, 10_000);
    const itl = histogram(result, 'itlUs');
    expect(itl.totalCount).toBe(10);
    expectMicros(itl.getValueAtPercentile(50), 10_000);
    expect(result.requests).toMatchObject({ ok: 1, errors: 0, good: 1 });
    // The server did not say what its prompt cache held: nothing is assumed.
    expect(result.tokens).toEqual({ output: 11, input: 7, fromServer: 1, estimated: 0, cache: { requests: 0, input: 0, cached: 0 } });
    expect(result.firstStartMs).toBeCloseTo(origin + 10_000, 3);
    expect(result.lastEndMs).toBeCloseTo(origin + 10_150, 3);
  });

  test('no TTFT without streaming, no TPOT for a single token, estimated tokens counted apart', () => {
    const recorder = new Recorder(options);
    record(recorder, { ...streamed(10_000, 4, 20, 5), firstContentMs: null, contentChunkTimesMs: [], usageFromServer: false });
    record(recorder, streamed(11_000, 1, 20, 5));
    const result = recorder.finish();
    expect(histogram(result, 'e2eUs').totalCount).toBe(2);
    expect(histogram(result, 'ttftUs').totalCount).toBe(1);
    expect(histogram(result, 'tpotUs').totalCount).toBe(0);
    expect(histogram(result, 'itlUs').totalCount).toBe(0);
    expect(result.tokens).toMatchObject({ fromServer: 1, estimated: 1 });
  });

  test('failures are counted by class and in their window, never in latency histograms', () => {
    const recorder = new Recorder(options);
    record(recorder, failed(10_100, 'timeout'));
    record(recorder, failed(12_500, 'http_500'));
    record(recorder, failed(12_600, 'http_500'));
    record(recorder, streamed(12_000, 3, 10, 10));
    const result = recorder.finish();
    expect(result.requests).toEqual({ ok: 1, good: 1, errors: 3, byClass: { timeout: 1, http_500: 2 }, samples: expect.any(Object) });
    // The first failure of each class is kept as its sample.
    expect(Object.keys(result.requests.samples).sort()).toEqual(['http_500', 'timeout']);
    expect(result.requests.samples.http_500).toMatch(/^http_500 at /);
    expect(histogram(result, 'e2eUs').totalCount).toBe(1);
    // Windows count from the start of measurement, by the time a request ended.
    const counted = result.series.windows.filter((window) => window.ok + window.errors > 0);
    expect(counted.map((window) => [window.index, window.ok, window.errors])).toEqual([
      [0, 0, 1],
      [2, 1, 2],
    ]);
    expect(result.series.windows.find((window) => window.index === 2)!.errorsByClass).toEqual({ http_500: 2 });
  });

  test('model-switch roles: switch and warm latencies apart, switches counted', () => {
    const recorder = new Recorder(options);
    record(recorder, streamed(10_000, 2, 300, 10), 'plain');
    record(recorder, streamed(11_000, 2, 400, 10), 'switch');
    record(recorder, streamed(12_000, 2, 40, 10), 'warm');
    record(recorder, streamed(13_000, 2, 40, 10), 'warm');
    const result = recorder.finish();
    expect(result.switches).toBe(1);
    expect(histogram(result, 'switchUs').totalCount).toBe(1);
    expectMicros(histogram(result, 'switchUs').maxValue, 410_000);
    expect(histogram(result, 'warmUs').totalCount).toBe(2);
    expect(histogram(result, 'e2eUs').totalCount).toBe(4);
  });

  test('requests in flight: peak and the time-weighted integral', () => {
    const recorder = new Recorder(options);
    const before = performance.now();
    recorder.started();
    recorder.started();
    const bothStarted = performance.now();
    const spinUntil = bothStarted + 20;
    while (performance.now() < spinUntil); // two in flight for at least 20 ms
    const beforeEnd = performance.now();
    recorder.record(streamed(10_000, 1, 1, 1), { model: 'm', conversation: 'c1' });
    recorder.record(streamed(10_000, 1, 1, 1), { model: 'm', conversation: 'c2' });
    const after = performance.now();
    const { concurrency } = recorder.finish();
    expect(concurrency.peak).toBe(2);
    expect(concurrency.inFlightIntegralMs).toBeGreaterThanOrEqual(2 * (beforeEnd - bothStarted));
    expect(concurrency.inFlightIntegralMs).toBeLessThanOrEqual(2 * (after - before));
  });

  test('probes: same-model recalls by distance, cross-switch probes apart', () => {
    const recorder = new Recorder(options);
    recorder.recordProbe({ distance: 3, recalled: true, crossSwitch: false });
    recorder.recordProbe({ distance: 3, recalled: false, crossSwitch: false });
    recorder.recordProbe({ distance: 5, recalled: true, crossSwitch: false });
    recorder.recordProbe({ distance: 4, recalled: true, crossSwitch: true });
    expect(recorder.finish().context).toEqual({
      probes: 3,
      recalled: 2,
      crossSwitchProbes: 1,
      crossSwitchRecalled: 1,
      byDistance: { '3': { probes: 2, recalled: 1 }, '5': { probes: 1, recalled: 1 } },
    });
  });

  test('goodput: a successful request counts as good only when it meets every per-request SLO', () => {
    const recorder = new Recorder({ ...options, slo: { ttftMs: 100, itlMs: 30, e2eMs: undefined, tpotMs: undefined } });
    record(recorder, streamed(10_000, 3, 50, 10)); // good
    record(recorder, streamed(11_000, 3, 150, 10)); // TTFT too long
    record(recorder, streamed(12_000, 3, 50, 40)); // a 40 ms gap
    expect(recorder.finish().requests).toMatchObject({ ok: 3, good: 1 });
  });
});
