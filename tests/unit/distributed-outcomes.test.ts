/**
 * The pure halves of the distributed control worker, without Redis: what a phase job returns from
 * its shards' results and failures, and how the run job turns phase outcomes into the report.
 */
import { phaseOutcome, type PhaseOutcome } from '../../src/coordinator/distributed/phase-outcome';
import { runReportFromOutcomes } from '../../src/coordinator/distributed/run-outcome';
import { buildRunFlow } from '../../src/coordinator/distributed/submit-run';
import { resolveTarget } from '../../src/coordinator/resolve-target';
import { createHistogram, encodeHistogram } from '../../src/shared/histogram';
import { runJobSchema, shardJobSchema, type RunJob } from '../../src/shared/job-payloads';
import { readPlan } from '../../src/shared/parse-plan';
import { emptyShardResult, type ShardResult } from '../../src/shared/shard-result';

function shard(e2eMs: number[]): ShardResult {
  const histogram = createHistogram();
  for (const ms of e2eMs) histogram.recordValue(ms * 1000);
  const result = emptyShardResult();
  return {
    ...result,
    firstStartMs: 1000,
    lastEndMs: 2000,
    requests: { ok: e2eMs.length, good: e2eMs.length, errors: 0, byClass: {}, samples: {} },
    histograms: { ...result.histograms, e2eUs: encodeHistogram(histogram) },
  };
}

const text = `
name: flow
target: { baseUrl: "http://127.0.0.1:9/v1", apiKeyEnv: FLOW_TEST_KEY }
phases:
  - { name: first, scenario: requests, models: [m], shards: 2, load: { concurrency: 2, requests: 10 }, criteria: { requests.total: ">= 10" } }
  - { name: second, scenario: requests, models: [m], load: { concurrency: 1, duration: 1s } }
`;
const loaded = readPlan(text, 'flow.yaml');
const runJob: RunJob = runJobSchema.parse({
  type: 'run',
  runId: 'flow-1',
  planSource: 'flow.yaml',
  planInput: loaded.input,
  submittedAt: '2026-11-25T10:00:00.000Z',
});

describe('phase outcome', () => {
  const phase = { phaseIndex: 0, phaseName: 'first', shardCount: 2 };

  test('all shards finished: merged exactly, no error', () => {
    const outcome = phaseOutcome(phase, [shard([10, 20]), shard([30, 40, 50])], []);
    expect(outcome.error).toBeNull();
    expect(outcome.merged!.requests.ok).toBe(5);
  });

  test('a failed shard: what the others measured is kept, and the error names the phase and the cause', () => {
    const outcome = phaseOutcome(phase, [shard([10])], ['connect ECONNREFUSED']);
    expect(outcome.merged!.requests.ok).toBe(1);
    expect(outcome.error).toMatchObject({
      code: 'GRYM_ERR_SHARD_FAILED',
      message: expect.stringContaining('1 of 2 shard(s) of phase "first" failed (connect ECONNREFUSED)'),
    });
  });

  test('a shard that returned nothing counts as failed too', () => {
    expect(phaseOutcome(phase, [shard([10])], []).error?.code).toBe('GRYM_ERR_SHARD_FAILED');
    expect(phaseOutcome(phase, [], ['x', 'y']).merged).toBeNull();
  });
});

describe('run report from phase outcomes', () => {
  test('each phase judged on its own merged outcome, criteria on the merged counts', () => {
    const first: PhaseOutcome = phaseOutcome(
      { phaseIndex: 0, phaseName: 'first', shardCount: 2 },
      [shard(Array(5).fill(10)), shard(Array(5).fill(20))],
      [],
    );
    const second: PhaseOutcome = { phaseIndex: 1, merged: shard([15]), error: null };
    const report = runReportFromOutcomes(runJob, [first, second], new Date('2026-11-25T10:01:00.000Z'));
    expect(report).toMatchObject({ runId: 'flow-1', mode: 'distributed', durationMs: 60_000, passed: true });
    expect(report.phases.map((phase) => phase.metrics.requests.total)).toEqual([10, 1]);
    expect(report.phases[0]!.criteria[0]).toMatchObject({ metric: 'requests.total', passed: true, value: 10 });
  });

  test('a phase without an outcome is reported as not run, and the run fails', () => {
    const report = runReportFromOutcomes(runJob, [{ phaseIndex: 0, merged: shard([10]), error: null }, undefined]);
    expect(report.passed).toBe(false);
    expect(report.phases[1]!.error).toMatchObject({
      code: 'GRYM_ERR_PHASE_NOT_RUN',
      message: expect.stringContaining('phase "second" did not run'),
    });
  });
});

describe('run flow', () => {
  test('run job over a chain of phases, each phase carrying its shard jobs as the workers will parse them', () => {
    const target = resolveTarget(loaded.plan.target);
    const flow = buildRunFlow({ redisUrl: 'redis://unused', loaded, target, runId: 'flow-1', barrierTimeoutMs: 5000 });
    expect(flow).toMatchObject({ queueName: 'runs', opts: { jobId: 'run.flow-1' } });
    const last = flow.children![0]!;
    const first = last.children![0]!;
    expect([first.opts!.jobId, last.opts!.jobId]).toEqual(['flow-1.p0', 'flow-1.p1']);
    const shards = (first.data as { shards: unknown[] }).shards.map((data) => shardJobSchema.parse(data));
    expect(shards.map(({ task }) => [task.shardIndex, task.concurrency, task.requests])).toEqual([
      [0, 1, 5],
      [1, 1, 5],
    ]);
    // The phase travels as written and is resolved again by the worker: units and defaults as in the plan.
    expect(shards[0]!.task.phase.load).toMatchObject({ requests: 10, warmupMs: 0 });
    expect(shards[0]!.barrierTimeoutMs).toBe(5000);
    // The key is named, never carried.
    process.env.FLOW_TEST_KEY = 'sk-flow-test-secret';
    const again = JSON.stringify(buildRunFlow({ redisUrl: 'redis://unused', loaded, target, runId: 'flow-1' }));
    expect(again).toContain('"apiKeyEnv":"FLOW_TEST_KEY"');
    expect(again).not.toContain('sk-flow-test-secret');
  });
});
