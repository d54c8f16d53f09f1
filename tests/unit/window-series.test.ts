/**
 * Windowed series: recorded per thread, merged by adding. Windows of two threads merged equal the
 * windows of the same requests recorded in one place; window counts add up to the phase's; long
 * phases coarsen to a bounded number of windows and still merge with finer series.
 */
import { decodeHistogram } from '../../src/shared/histogram';
import { createRandom } from '../../src/shared/seeded-random';
import { coarsen, MAX_WINDOWS, mergeSeries, type WindowSeries } from '../../src/shared/window-series';
import { WindowRecorder } from '../../src/worker/window-recorder';

const ORIGIN = 1_700_000_000_000;

interface Request {
  endMs: number;
  ok: boolean;
  e2eUs: number;
  ttftUs: number;
  itlUs: number[];
}

/** Seeded requests over `seconds`, in end-time order, some failing. */
function requests(seconds: number, perSecond: number, seed = 1): Request[] {
  const random = createRandom(seed);
  const list: Request[] = [];
  for (let i = 0; i < seconds * perSecond; i++) {
    const e2eUs = Math.round(20_000 + random() * 200_000 * (random() < 0.05 ? 5 : 1));
    list.push({
      endMs: ORIGIN + (i / perSecond) * 1000,
      ok: random() > 0.03,
      e2eUs,
      ttftUs: Math.round(e2eUs / 4),
      itlUs: [1000 + Math.round(random() * 9000)],
    });
  }
  return list;
}

function record(recorder: WindowRecorder, list: Request[]): void {
  for (const request of list) {
    if (!request.ok) {
      recorder.recordFailure(request.endMs, 'http_500');
      continue;
    }
    recorder.recordSuccess(request.endMs, request.e2eUs, request.ttftUs, 2);
    for (const gap of request.itlUs) recorder.recordGap(request.endMs, gap);
  }
}

function percentiles(series: WindowSeries, index: number): number[] {
  const window = series.windows.find((w) => w.index === index)!;
  return (['e2eUs', 'ttftUs', 'itlUs'] as const).flatMap((name) =>
    [50, 95, 99].map((p) => decodeHistogram(window.histograms[name]).getValueAtPercentile(p)),
  );
}

test('two threads merged equal one place: every window, counts and percentiles', () => {
  const all = requests(20, 50);
  const one = new WindowRecorder(ORIGIN, 1000);
  const [a, b] = [new WindowRecorder(ORIGIN, 1000), new WindowRecorder(ORIGIN, 1000)];
  record(one, all);
  record(
    a,
    all.filter((_, i) => i % 3 === 0),
  );
  record(
    b,
    all.filter((_, i) => i % 3 !== 0),
  );
  const single = one.finish();
  const merged = mergeSeries(a.finish(), b.finish());
  expect(merged.windowMs).toBe(1000);
  expect(merged.windows.map((w) => [w.index, w.ok, w.errors, w.outputTokens])).toEqual(
    single.windows.map((w) => [w.index, w.ok, w.errors, w.outputTokens]),
  );
  for (const window of single.windows) expect(percentiles(merged, window.index)).toEqual(percentiles(single, window.index));
});

test('the sum of window counts is the phase count', () => {
  const all = requests(12, 40, 7);
  const recorder = new WindowRecorder(ORIGIN, 1000);
  record(recorder, all);
  const series = recorder.finish();
  expect(series.windows.reduce((sum, w) => sum + w.ok + w.errors, 0)).toBe(all.length);
  expect(series.windows.reduce((sum, w) => sum + (w.errorsByClass.http_500 ?? 0), 0)).toBe(all.filter((r) => !r.ok).length);
  expect(series.windows.reduce((sum, w) => sum + decodeHistogram(w.histograms.e2eUs).totalCount, 0)).toBe(all.filter((r) => r.ok).length);
});

test('requests in flight are spread over the windows they span', () => {
  const recorder = new WindowRecorder(ORIGIN, 1000);
  recorder.recordInFlight(ORIGIN + 500, ORIGIN + 2500, 2);
  const windows = recorder.finish().windows;
  expect(windows.map((w) => [w.index, w.inFlightMs])).toEqual([
    [0, 1000],
    [1, 2000],
    [2, 1000],
  ]);
});

test('a long phase coarsens: at most MAX_WINDOWS windows, longer ones, nothing lost', () => {
  const seconds = MAX_WINDOWS * 2 + 100;
  const all = requests(seconds, 2, 3);
  const recorder = new WindowRecorder(ORIGIN, 1000);
  record(recorder, all);
  recorder.recordInFlight(ORIGIN, ORIGIN + seconds * 1000, 1);
  const series = recorder.finish();
  expect(series.windowMs).toBe(4000);
  expect(series.windows.length).toBeLessThanOrEqual(MAX_WINDOWS);
  expect(series.windows.reduce((sum, w) => sum + w.ok + w.errors, 0)).toBe(all.length);
  expect(series.windows.reduce((sum, w) => sum + w.inFlightMs, 0)).toBeCloseTo(seconds * 1000);
  // The same requests at 1 s windows, coarsened afterwards, give the same windows.
  const fine = new WindowRecorder(ORIGIN, 1000);
  record(fine, all.slice(0, 40));
  const coarse = new WindowRecorder(ORIGIN, 1000);
  record(coarse, all.slice(0, 40));
  expect(coarsen(fine.finish(), 4000).windows.map((w) => [w.index, w.ok])).toEqual(
    coarsen(coarse.finish(), 4000).windows.map((w) => [w.index, w.ok]),
  );
});

test('a coarsened series merges with a finer one: the finer is coarsened first, counts add up', () => {
  const long = new WindowRecorder(ORIGIN, 1000);
  record(long, requests(MAX_WINDOWS + 50, 1, 5));
  const short = new WindowRecorder(ORIGIN, 1000);
  record(short, requests(30, 10, 6));
  const [a, b] = [long.finish(), short.finish()];
  const merged = mergeSeries(a, b);
  expect(merged.windowMs).toBe(2000);
  const total = (series: WindowSeries) => series.windows.reduce((sum, w) => sum + w.ok + w.errors, 0);
  expect(total(merged)).toBe(total(a) + total(b));
});

test('a late request for a window already closed still counts, whatever its latency', () => {
  const recorder = new WindowRecorder(ORIGIN, 1000);
  recorder.recordSuccess(ORIGIN + 500, 100, null, 1);
  recorder.recordLoopLag(ORIGIN + 1500, 3);
  // Ends in window 0 although window 1 is current: 5 s is far above what window 0 held.
  recorder.recordSuccess(ORIGIN + 900, 5_000_000, null, 1);
  const first = recorder.finish().windows[0]!;
  expect(first.ok).toBe(2);
  expect(decodeHistogram(first.histograms.e2eUs).maxValue).toBeGreaterThanOrEqual(4_990_000);
});
