/**
 * live.json's phases say that a phase is stopping, and why, as soon as one of its shards has said
 * so (the first stop, the one the report names), before the phase has ended.
 */
import type { Job } from 'bullmq';
import type { RunProgress } from '../../src/coordinator/distributed/watch-run';
import type { FoundRun } from '../../src/dashboard/find-run';
import { liveRun } from '../../src/dashboard/live-run';

const shard = { state: 'active', completed: 10, errors: 5, fraction: 0.3, attempts: 1, worker: 'worker-a' };

function found(progress: RunProgress): FoundRun {
  const job = { name: 'plan', timestamp: 0, data: { submittedAt: '2026-01-01T00:00:00.000Z' } } as unknown as Job;
  return { runId: 'run-1', job, progress, words: 'running phase 2 of 2 (steady)', ended: false };
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
