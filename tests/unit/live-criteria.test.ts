/**
 * Live criteria: a phase's criteria judged on the sum of its shards' latest totals (everything each
 * has measured since the measured start), by the report's judge; the others left to the end. A
 * poll is judged on itself alone: nothing is kept from one to the next.
 */
import { parseCriterion, type Criterion } from '../../src/shared/criteria';
import { createHistogram, encodeHistogram } from '../../src/shared/histogram';
import { addTotals, shiftTotals, type LiveTotals } from '../../src/shared/live-totals';
import { METRICS } from '../../src/shared/phase-metrics';
import { addLiveCriteria } from '../../src/coordinator/distributed/add-live-criteria';
import type { RunProgress } from '../../src/coordinator/distributed/watch-run';
import { describeLiveCriteria, judgeLive, LIVE_METRICS } from '../../src/coordinator/metrics/live-criteria';

const ORIGIN = 1_700_000_000_000;

function criterion(metric: string, condition: string): Criterion {
  const parsed = parseCriterion(metric, condition);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
}

/**
 * Totals of `e2eMs.length` successful requests (TTFT a quarter of each, 10 tokens each) and `errors`
 * failures, measured from ORIGIN to `spanMs` after it, one request in flight all along.
 */
function totalsOf(e2eMs: number[], errors = 0, spanMs = 1000): LiveTotals {
  const e2e = createHistogram();
  const ttft = createHistogram();
  for (const ms of e2eMs) {
    e2e.recordValue(ms * 1000);
    ttft.recordValue(ms * 250);
  }
  const any = e2eMs.length + errors > 0;
  return {
    atMs: ORIGIN + spanMs,
    ok: e2eMs.length,
    errors,
    outputTokens: e2eMs.length * 10,
    inFlightMs: any ? spanMs : 0,
    firstStartMs: any ? ORIGIN : null,
    lastEndMs: any ? ORIGIN + spanMs : null,
    histograms: { e2eUs: e2eMs.length > 0 ? encodeHistogram(e2e) : '', ttftUs: e2eMs.length > 0 ? encodeHistogram(ttft) : '', itlUs: '' },
  };
}

const times = (count: number, ms: number) => Array.from({ length: count }, () => ms);

describe('live criteria (judgeLive)', () => {
  const p95 = criterion('latency.e2e.p95', '< 500ms');
  const errorRate = criterion('requests.errorRate', '< 5%');
  const memory = criterion('memory.target.peak', '< 14GB');

  test('a p95 criterion flips from holding to broken when slow requests arrive, judged as the report judges', () => {
    const fast = [...times(100, 100), ...times(100, 120)];
    const holding = judgeLive([p95, errorRate, memory], [totalsOf(fast, 0, 2000)]);
    expect(holding?.measuredMs).toBe(2000);
    expect(holding?.criteria.map((item) => item.state)).toEqual(['holding', 'holding', 'at-end']);
    expect(holding?.criteria[0]?.verdict).toMatch(/^1\d\d\.\d ms < 500\.0 ms$/);

    // 30 slow requests of 230: more than 5 % of them, so the p95 is slow now.
    const slow = judgeLive([p95, errorRate, memory], [totalsOf([...fast, ...times(30, 900)], 0, 3000)]);
    expect(slow?.criteria[0]).toMatchObject({ metric: 'latency.e2e.p95', text: '< 500ms', state: 'broken' });
    expect(slow?.criteria[0]?.verdict).toMatch(/^9\d\d\.\d ms is not < 500\.0 ms \(over by 4\d\d\.\d ms\)$/);
    expect(slow?.criteria[1]?.state).toBe('holding');
  });

  test('while a shard has no totals, measurable criteria wait; the others are judged at the end; no criteria, no judgment', () => {
    const criteria = [p95, criterion('latency.ttft.p50', '< 300ms'), memory, criterion('stability', '> 95%')];
    const live = judgeLive(criteria, [totalsOf(times(10, 100)), undefined]);
    expect(live?.criteria.map((item) => item.state)).toEqual(['waiting', 'waiting', 'at-end', 'at-end']);
    expect(judgeLive(criteria, [])?.measuredMs).toBe(0);
    expect(judgeLive([], [totalsOf(times(10, 100))])).toBeNull();
    // A shard that has measured nothing yet: its figures are there, with no value to judge.
    expect(judgeLive([p95], [totalsOf([])])?.criteria[0]?.state).toBe('waiting');
  });

  test('error rate, counts, throughput and mean concurrency over the span of the requests, as the report reads them', () => {
    const live = judgeLive(
      [
        criterion('requests.errorRate', '< 10%'),
        criterion('requests.total', '>= 40'),
        criterion('throughput.rps', '> 20/s'),
        criterion('throughput.outputTokensPerSecond', '> 100/s'),
        criterion('concurrency.mean', '> 1'),
        criterion('latency.ttft.p50', '< 20ms'),
      ],
      [{ ...totalsOf(times(36, 100), 4, 2000), inFlightMs: 3600 }],
    );
    expect(live?.criteria.map((item) => [item.state, item.verdict])).toEqual([
      ['broken', '10.00 % is not < 10.00 % (under by 0.00 %)'],
      ['holding', '40 >= 40'],
      ['broken', '18.00 /s is not > 20.00 /s (under by 2.00 /s)'],
      ['holding', '180.00 /s > 100.00 /s'],
      ['holding', '1.80 > 1'],
      ['broken', '25.0 ms is not < 20.0 ms (over by 5.0 ms)'],
    ]);
    expect(describeLiveCriteria(live!)).toBe(
      '3 holding, 3 broken: requests.errorRate 10.00 % is not < 10.00 % (under by 0.00 %); ' +
        'throughput.rps 18.00 /s is not > 20.00 /s (under by 2.00 /s); latency.ttft.p50 25.0 ms is not < 20.0 ms (over by 5.0 ms)',
    );
  });

  test('shards reporting at different instants: every request each has measured, over the span from the earliest start to the latest end', () => {
    const a = totalsOf(times(30, 100), 0, 3000);
    // Shard B started 200 ms later and last reported 1 s before A did.
    const b = { ...shiftTotals(totalsOf(times(18, 300), 2, 1800), 200), inFlightMs: 1800 };
    const live = judgeLive(
      [criterion('requests.total', '>= 50'), criterion('throughput.rps', '> 1/s'), criterion('latency.e2e.p50', '< 200ms')],
      [a, b],
    );
    expect(live?.measuredMs).toBe(3000);
    expect(live?.criteria.map((item) => item.verdict)).toEqual([
      '50 >= 50',
      '16.00 /s > 1.00 /s',
      expect.stringMatching(/^100\.\d ms < 200\.0 ms$/),
    ]);
  });

  test('every live metric is a metric criteria may name', () => {
    for (const name of Object.keys(LIVE_METRICS)) expect(Object.keys(METRICS)).toContain(name);
  });
});

test("a shard's threads' totals add up as their results do: counts summed, histograms added, the widest span", () => {
  const a = totalsOf(times(10, 100), 1, 1000);
  const b = shiftTotals(totalsOf(times(5, 300), 0, 1000), 500);
  const sum = addTotals([a, b, totalsOf([])]);
  expect(sum).toMatchObject({ atMs: ORIGIN + 1500, ok: 15, errors: 1, outputTokens: 150, inFlightMs: 2000 });
  expect([sum.firstStartMs, sum.lastEndMs]).toEqual([ORIGIN, ORIGIN + 1500]);
  const live = judgeLive([criterion('latency.e2e.p90', '< 1s'), criterion('latency.itl.p50', '< 1s')], [sum]);
  expect(live?.criteria.map((item) => [item.state, item.verdict])).toEqual([
    ['holding', expect.stringMatching(/^300\.\d ms < 1\.00 s$/)],
    ['waiting', null],
  ]);
  expect(addTotals([totalsOf([]), totalsOf([])]).histograms).toEqual({ e2eUs: '', ttftUs: '', itlUs: '' });
});

test("a distributed run's poll gets each running phase's criteria, judged on that poll alone (a reader may start at any poll)", () => {
  const atLeast = (count: number) => ({ criteria: [criterion('requests.total', `>= ${count}`)] });
  const shard = (totals: LiveTotals | undefined) => ({
    state: 'active',
    completed: 0,
    errors: 0,
    fraction: 0.5,
    attempts: 1,
    ...(totals ? { totals } : {}),
  });
  const poll = (shards: Array<LiveTotals | undefined>): RunProgress => ({
    state: 'active',
    phases: [
      { phaseIndex: 0, name: 'done', state: 'completed', shards: [{ ...shard(totalsOf([1])), state: 'completed' }] },
      { phaseIndex: 1, name: 'steady', state: 'active', shards: shards.map(shard) },
      { phaseIndex: 2, name: 'later', state: 'waiting-children', shards: [shard(undefined)] },
    ],
  });
  const phasesOf = (shards: Array<LiveTotals | undefined>, plan = [atLeast(1), atLeast(30), atLeast(1)]) =>
    addLiveCriteria(plan, poll(shards)).phases;

  // Each shard's totals hold all it has measured: the first poll a reader sees judges the whole phase so far.
  const first = phasesOf([totalsOf(times(20, 100)), totalsOf(times(10, 100))]);
  expect(first[1]?.criteria?.criteria[0]).toMatchObject({ state: 'holding', verdict: '30 >= 30' });
  // An ended phase has its report's judgment; a later one waits; a phase without criteria gets none.
  expect(first[0]).not.toHaveProperty('criteria');
  expect(first[2]?.criteria?.criteria[0]?.state).toBe('waiting');
  expect(phasesOf([totalsOf([]), totalsOf([])])[1]?.criteria?.criteria[0]?.state).toBe('broken');
  expect(phasesOf([totalsOf([1])], [atLeast(1), { criteria: [] }, atLeast(1)])[1]).not.toHaveProperty('criteria');
  // A shard without totals (not started, or a retry not reported yet): waiting, not a short count.
  expect(phasesOf([totalsOf(times(40, 100)), undefined])[1]?.criteria?.criteria[0]?.state).toBe('waiting');
});
