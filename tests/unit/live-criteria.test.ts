/**
 * Live criteria: the running totals of a phase's windows (each shard's window counted once, when
 * every shard has closed that time; coarsened windows taken back out and counted whole) and the
 * criteria judged on them by the report's judge, the others left to the end.
 */
import { parseCriterion, type Criterion } from '../../src/shared/criteria';
import { createHistogram, decodeHistogram, encodeHistogram } from '../../src/shared/histogram';
import { METRICS } from '../../src/shared/phase-metrics';
import { emptyWindow, MAX_WINDOWS, type RecentWindows, type WindowRecord } from '../../src/shared/window-series';
import { followRunCriteria } from '../../src/coordinator/distributed/follow-run-criteria';
import { followLiveCriteria, judgeLive, LIVE_METRICS } from '../../src/coordinator/metrics/live-criteria';
import { LiveTotalsTracker } from '../../src/coordinator/metrics/live-totals';
import { WindowRecorder } from '../../src/worker/window-recorder';

const ORIGIN = 1_700_000_000_000;

function criterion(metric: string, condition: string): Criterion {
  const parsed = parseCriterion(metric, condition);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
}

/** A closed window of `e2eMs.length` successful requests (TTFT a quarter of each) and `errors` failures. */
function windowOf(index: number, e2eMs: number[], errors = 0): WindowRecord {
  const e2e = createHistogram();
  const ttft = createHistogram();
  for (const ms of e2eMs) {
    e2e.recordValue(ms * 1000);
    ttft.recordValue(ms * 250);
  }
  return {
    ...emptyWindow(index),
    ok: e2eMs.length,
    errors,
    errorsByClass: errors > 0 ? { http_500: errors } : {},
    outputTokens: e2eMs.length * 10,
    inFlightMs: e2eMs.reduce((sum, ms) => sum + ms, 0),
    histograms: { e2eUs: e2eMs.length > 0 ? encodeHistogram(e2e) : '', ttftUs: e2eMs.length > 0 ? encodeHistogram(ttft) : '', itlUs: '' },
  };
}

function recent(closedThrough: number, windows: WindowRecord[], windowMs = 1000, originEpochMs = ORIGIN): RecentWindows {
  return { windowMs, originEpochMs, closedThrough, windows };
}

const times = (count: number, ms: number) => Array.from({ length: count }, () => ms);

describe('live totals (LiveTotalsTracker)', () => {
  test('two shards whose windows close at different times are counted once each, over the span both have closed', () => {
    const tracker = new LiveTotalsTracker();
    const a = [windowOf(0, times(10, 100)), windowOf(1, times(20, 100)), windowOf(2, times(30, 100), 3)];
    const b = [windowOf(0, times(1, 200)), windowOf(1, times(2, 200), 1), windowOf(2, times(4, 200))];

    // Nothing until both shards have reported windows.
    expect(tracker.update([recent(2, a), undefined])).toBeNull();
    // Shard B has closed only window 0: the totals stop there, for both.
    let totals = tracker.update([recent(2, a), recent(0, b.slice(0, 1))]);
    expect(totals).toMatchObject({ throughMs: 1000, ok: 11, errors: 0 });
    expect(totals?.e2eUs.totalCount).toBe(11);

    // The same reports again, and overlapping later ones, change nothing already counted.
    tracker.update([recent(2, a), recent(0, b.slice(0, 1))]);
    totals = tracker.update([recent(2, a), recent(1, b.slice(0, 2))]);
    expect(totals).toMatchObject({ throughMs: 2000, ok: 10 + 20 + 1 + 2, errors: 1 });
    tracker.update([recent(3, a), recent(2, b)]);
    totals = tracker.update([recent(3, a), recent(2, b)]);
    expect(totals).toMatchObject({ throughMs: 3000, ok: 60 + 7, errors: 4, outputTokens: 670 });
    expect(totals?.e2eUs.totalCount).toBe(67);
    expect(totals?.ttftUs.totalCount).toBe(67);
  });

  test('a shard that ends (no more windows) leaves the last totals; a retried shard (another origin) counts afresh', () => {
    const tracker = new LiveTotalsTracker();
    const first = tracker.update([recent(0, [windowOf(0, times(5, 100))]), recent(0, [windowOf(0, times(5, 100))])]);
    expect(first?.ok).toBe(10);
    expect(tracker.update([recent(1, [windowOf(1, times(5, 100))]), undefined])).toBe(first);

    // Shard 1 runs again from another start: its first attempt's window goes.
    const retried = tracker.update([recent(1, [windowOf(1, times(5, 100))]), recent(1, [windowOf(1, times(3, 100))], 1000, ORIGIN + 5)]);
    expect(retried).toMatchObject({ throughMs: 2000, ok: 5 + 5 + 3 });
  });

  test('windows that coarsen while the shards run are counted exactly: the totals equal the finished series', () => {
    // Two shards record the same kind of load, one window with requests every second, past MAX_WINDOWS (so they coarsen),
    // and report at different moments, as a poller every 700 ms reads them.
    const recorders = [new WindowRecorder(ORIGIN, 1000), new WindowRecorder(ORIGIN, 1000)];
    const tracker = new LiveTotalsTracker();
    const seconds = MAX_WINDOWS + 400;
    let sent = 0;
    let totals = null;
    for (let ms = 0; ms < seconds * 1000; ms += 100) {
      const [a, b] = recorders as [WindowRecorder, WindowRecorder];
      // Shard A: a request every 100 ms; shard B: one every 300 ms, failing every 7th.
      a.recordSuccess(ORIGIN + ms + 50, 10_000 + (ms % 7000), 2000, 5);
      if (ms % 300 === 0) {
        if (sent++ % 7 === 0) b.recordFailure(ORIGIN + ms + 50, 'timeout');
        else b.recordSuccess(ORIGIN + ms + 50, 50_000 + (ms % 3000), 4000, 5);
      }
      if (ms % 700 === 0) totals = tracker.update([a.recent(ORIGIN + ms + 60), b.recent(ORIGIN + ms + 20)]);
    }
    const finished = recorders.map((recorder) => recorder.finish());
    expect(finished[0]?.windowMs).toBeGreaterThan(1000);
    // What the finished series hold before the totals' end, both shards together.
    const throughMs = totals?.throughMs ?? 0;
    expect(throughMs).toBeGreaterThan(seconds * 1000 - 10_000);
    const before = finished.flatMap((series) => series.windows.filter((window) => (window.index + 1) * series.windowMs <= throughMs));
    const e2e = createHistogram();
    for (const window of before) if (window.histograms.e2eUs !== '') e2e.add(decodeHistogram(window.histograms.e2eUs));
    expect(totals?.ok).toBe(before.reduce((sum, window) => sum + window.ok, 0));
    expect(totals?.errors).toBe(before.reduce((sum, window) => sum + window.errors, 0));
    expect(totals?.e2eUs.totalCount).toBe(e2e.totalCount);
    expect(totals?.e2eUs.getValueAtPercentile(95)).toBe(e2e.getValueAtPercentile(95));
  });
});

describe('live criteria', () => {
  const p95 = criterion('latency.e2e.p95', '< 500ms');
  const errorRate = criterion('requests.errorRate', '< 5%');
  const memory = criterion('memory.target.peak', '< 14GB');

  test('a p95 criterion flips from holding to broken when slow windows arrive, judged as the report judges', () => {
    const live = followLiveCriteria([p95, errorRate, memory]);
    const fast = [windowOf(0, times(100, 100)), windowOf(1, times(100, 120))];
    const holding = live.update([recent(1, fast)]);
    expect(holding?.measuredMs).toBe(2000);
    expect(holding?.criteria.map((item) => item.state)).toEqual(['holding', 'holding', 'at-end']);
    expect(holding?.criteria[0]?.verdict).toMatch(/^1\d\d\.\d ms < 500\.0 ms$/);

    // 30 slow requests of 230: more than 5 % of them, so the p95 is slow now.
    const slow = live.update([recent(2, [...fast, windowOf(2, times(30, 900))])]);
    expect(slow?.criteria[0]).toMatchObject({ metric: 'latency.e2e.p95', text: '< 500ms', state: 'broken' });
    expect(slow?.criteria[0]?.verdict).toMatch(/^9\d\d\.\d ms is not < 500\.0 ms \(over by 4\d\d\.\d ms\)$/);
    expect(slow?.criteria[1]?.state).toBe('holding');
  });

  test('before any window, measurable criteria wait and the others are judged at the end', () => {
    const live = judgeLive([p95, criterion('latency.ttft.p50', '< 300ms'), memory, criterion('stability', '> 95%')], null);
    expect(live.criteria.map((item) => item.state)).toEqual(['waiting', 'waiting', 'at-end', 'at-end']);
    expect(followLiveCriteria([]).update([recent(0, [windowOf(0, [100])])])).toBeNull();
  });

  test('error rate, counts and throughput come from the windows', () => {
    const live = followLiveCriteria([
      criterion('requests.errorRate', '< 10%'),
      criterion('requests.total', '>= 40'),
      criterion('throughput.rps', '> 20/s'),
      criterion('concurrency.mean', '> 1'),
      criterion('latency.ttft.p50', '< 20ms'),
    ]).update([recent(1, [windowOf(0, times(18, 100), 2), windowOf(1, times(18, 100), 2)])]);
    expect(live?.criteria.map((item) => [item.state, item.verdict])).toEqual([
      ['broken', '10.00 % is not < 10.00 % (under by 0.00 %)'],
      ['holding', '40 >= 40'],
      ['broken', '18.00 /s is not > 20.00 /s (under by 2.00 /s)'],
      ['holding', '1.80 > 1'],
      ['broken', '25.0 ms is not < 20.0 ms (over by 5.0 ms)'],
    ]);
  });

  test('windows shorter than half a second, which progress reports could skip, leave every criterion to the end', () => {
    const live = followLiveCriteria([p95, errorRate]);
    expect(live.update([recent(1, [windowOf(0, times(10, 100)), windowOf(1, times(10, 100))], 200)])?.criteria).toEqual([
      { metric: 'latency.e2e.p95', text: '< 500ms', state: 'at-end', verdict: null },
      { metric: 'requests.errorRate', text: '< 5%', state: 'at-end', verdict: null },
    ]);
    // Still after the windows have grown: the totals may have missed short ones by then.
    expect(live.update([recent(0, [windowOf(0, times(10, 100))], 1000)])?.criteria[0]?.state).toBe('at-end');
    // Half a second is followed.
    expect(followLiveCriteria([p95]).update([recent(0, [windowOf(0, times(10, 100))], 500)])?.criteria[0]?.state).toBe('holding');
  });

  test('every live metric is a metric criteria may name', () => {
    for (const name of Object.keys(LIVE_METRICS)) expect(Object.keys(METRICS)).toContain(name);
  });
});

test('a distributed run: each poll of its progress gets each phase criteria so far, the totals kept between polls', () => {
  const follow = followRunCriteria([{ criteria: [criterion('requests.total', '>= 30')] }, { criteria: [] }]);
  const shard = (recentWindows: RecentWindows) => ({
    state: 'active',
    completed: 0,
    errors: 0,
    fraction: 0.5,
    attempts: 1,
    recent: recentWindows,
  });
  const poll = (closedThrough: number, windows: WindowRecord[]) => ({
    state: 'active',
    phases: [
      {
        phaseIndex: 0,
        name: 'steady',
        state: 'active',
        shards: [shard(recent(closedThrough, windows)), shard(recent(closedThrough, windows))],
      },
      { phaseIndex: 1, name: 'later', state: 'waiting-children', shards: [] },
    ],
  });
  // Each shard's report holds only its latest window: the totals remember the earlier ones.
  expect(follow(poll(0, [windowOf(0, times(10, 100))])).phases[0]?.criteria?.criteria[0]?.state).toBe('broken');
  const second = follow(poll(1, [windowOf(1, times(5, 100))]));
  expect(second.phases[0]?.criteria?.criteria[0]).toMatchObject({ state: 'holding', verdict: '30 >= 30' });
  expect(second.phases[1]).not.toHaveProperty('criteria');
});
