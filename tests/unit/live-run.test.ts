/**
 * live.json's phases say that a phase is stopping, and why, as soon as one of its shards has said
 * so (the first stop, the one the report names), before the phase has ended; and the running
 * phase's criteria judged so far, on its shards' totals, in the CLI's words.
 */
import type { Job } from 'bullmq';
import type { RunProgress } from '../../src/coordinator/distributed/watch-run';
import type { FoundRun } from '../../src/dashboard/find-run';
import { liveRun } from '../../src/dashboard/live-run';
import { createHistogram, encodeHistogram } from '../../src/shared/histogram';
import type { LiveTotals } from '../../src/shared/live-totals';

const shard = { state: 'active', completed: 10, errors: 5, fraction: 0.3, attempts: 1, worker: 'worker-a' };

const PLAN_INPUT = {
  name: 'plan',
  target: { baseUrl: 'http://127.0.0.1:1/v1' },
  phases: [
    { name: 'warm', scenario: 'requests', models: ['m'], load: { concurrency: 1, requests: 5 }, criteria: { 'requests.total': '>= 5' } },
    {
      name: 'steady',
      scenario: 'requests',
      models: ['m'],
      shards: 2,
      load: { concurrency: 2, duration: '10s' },
      criteria: { 'latency.e2e.p95': '< 100ms', 'requests.errorRate': '< 10%', 'memory.harness.peak': '< 1GB' },
    },
  ],
};

function found(progress: RunProgress, planInput: unknown = PLAN_INPUT): FoundRun {
  const job = { name: 'plan', timestamp: 0, data: { submittedAt: '2026-01-01T00:00:00.000Z', planInput } } as unknown as Job;
  return { runId: 'run-1', job, progress, words: 'running phase 2 of 2 (steady)', ended: false };
}

/** `ok` requests of `e2eMs` each and `errors` failures over the first second. */
function totals(ok: number, e2eMs: number, errors: number): LiveTotals {
  const e2e = createHistogram();
  for (let i = 0; i < ok; i++) e2e.recordValue(e2eMs * 1000);
  return {
    atMs: 2000,
    ok,
    errors,
    outputTokens: ok,
    inFlightMs: 1000,
    firstStartMs: 1000,
    lastEndMs: 2000,
    histograms: { e2eUs: encodeHistogram(e2e), ttftUs: '', itlUs: '' },
  };
}

test('a phase is stopping from the first stop a shard told; one without a stop is not', () => {
  const live = liveRun(
    found({
      state: 'active',
      phases: [
        { phaseIndex: 0, name: 'warm', state: 'completed', shards: [{ ...shard, state: 'completed', fraction: 1 }] },
        {
          phaseIndex: 1,
          name: 'steady',
          state: 'active',
          shards: [
            { ...shard, stopped: { reason: '5 consecutive failed requests, all 2 shards together', atMs: 2000 } },
            { ...shard, stopped: { reason: '5 consecutive failed requests, on shard 2 of 2 (worker-b)', atMs: 1000 } },
          ],
        },
      ],
    }),
  );
  expect(live.phases.map((phase) => [phase.name, phase.current, phase.stopping])).toEqual([
    ['warm', false, null],
    ['steady', true, '5 consecutive failed requests, on shard 2 of 2 (worker-b)'],
  ]);
});

describe('criteria so far', () => {
  const progress = (shards: Array<LiveTotals | undefined>): RunProgress => ({
    state: 'active',
    phases: [
      {
        phaseIndex: 0,
        name: 'warm',
        state: 'completed',
        shards: [{ ...shard, state: 'completed', fraction: 1, totals: totals(5, 10, 0) }],
      },
      {
        phaseIndex: 1,
        name: 'steady',
        state: 'active',
        shards: shards.map((shardTotals) => ({ ...shard, ...(shardTotals ? { totals: shardTotals } : {}) })),
      },
    ],
  });

  test("the running phase's, on all its shards' totals, with the words progress lines use; none for the others", () => {
    const live = liveRun(found(progress([totals(90, 50, 2), totals(5, 400, 3)])));
    expect(live.phases[0]?.criteria).toBeNull();
    expect(live.phases[1]?.criteria).toEqual({
      measuredMs: 1000,
      words: expect.any(String),
      criteria: [
        { metric: 'latency.e2e.p95', text: '< 100ms', state: 'broken', verdict: expect.stringMatching(/^400\.\d ms is not < 100\.0 ms/) },
        { metric: 'requests.errorRate', text: '< 10%', state: 'holding', verdict: '5.00 % < 10.00 %' },
        { metric: 'memory.harness.peak', text: '< 1GB', state: 'at-end', verdict: null },
      ],
    });
    expect(live.phases[1]?.criteria?.words).toMatch(/^1 holding, 1 at the end, 1 broken: latency\.e2e\.p95 400\.\d ms is not < 100\.0 ms/);
  });

  test('waiting while a shard has no totals; none from a plan that no longer validates', () => {
    expect(liveRun(found(progress([totals(90, 50, 2), undefined]))).phases[1]?.criteria?.words).toBe('2 without data yet, 1 at the end');
    expect(liveRun(found(progress([totals(90, 50, 2), totals(5, 400, 3)]), { phases: 'not a plan' })).phases[1]?.criteria).toBeNull();
  });
});
