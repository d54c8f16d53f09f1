/**
 * Slices in a real Piscina pool against the mock: histograms recorded in two threads merge exactly,
 * warm-up requests are sent but not recorded, the shard runner samples memory and reports
 * throttled progress, and the local executor runs several shards and closes idempotently.
 */
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { mockOf } from '../../src/shared/target-schema';
import { startMockLlm, type MockLlmServer } from '../../src/mock-llm';
import { decodeHistogram, mergeEncoded } from '../../src/shared/histogram';
import { readPlan } from '../../src/shared/parse-plan';
import { mergeShardResults, type ShardResult } from '../../src/shared/shard-result';
import type { OpenAiTarget } from '../../src/shared/resolved-target';
import type { ShardProgress, ShardTask } from '../../src/shared/shard-task';
import { shardTasks } from '../../src/coordinator/shard-tasks';
import { createLocalExecutor } from '../../src/worker';
import { runShard } from '../../src/worker/run-shard';
import type { SliceProgress, SliceTask } from '../../src/worker/run-slice';
import { createWorkerPool } from '../../src/worker/worker-pool';

// Each test runs real load for one to two seconds in threads that load TypeScript through tsx.
jest.setTimeout(45_000);

const loaded = readPlan(`
name: pool-test
target:
  mock:
    models:
      - { name: quick, ttft: 10ms, tokensPerSecond: 400, loadTime: 0ms }
      - { name: other, ttft: 10ms, tokensPerSecond: 400, loadTime: 0ms }
phases:
  - { name: capped, scenario: requests, models: [quick], load: { concurrency: 4, requests: 60 }, conversation: { turns: 5, promptTokens: 4, maxTokens: 4 } }
  - { name: timed, scenario: requests, models: [quick], load: { concurrency: 4, duration: 1500ms, warmup: 500ms }, conversation: { turns: 5, promptTokens: 4, maxTokens: 4 }, memory: { interval: 100ms } }
  - { name: sharded, scenario: requests, models: [quick, other], shards: 2, load: { concurrency: 4, requests: 40 }, conversation: { turns: 5, promptTokens: 4, maxTokens: 4 } }
`);
const { plan } = loaded;

let mock: MockLlmServer;
let target: OpenAiTarget;
const pool: Piscina = createWorkerPool({ threads: 2 });

beforeAll(async () => {
  mock = await startMockLlm(mockOf(plan.target)!);
  target = {
    kind: 'openai',
    endpoint: 'chat',
    baseUrl: `${mock.url}/v1`,
    stream: true,
    requestTimeoutMs: 5000,
    maxResponseBytes: 16e6,
    memory: { source: 'ollama-ps', url: mock.url },
  };
});

afterAll(async () => {
  await pool.destroy();
  await mock.close();
});

function task(phaseIndex: number): ShardTask {
  const phase = plan.phases[phaseIndex]!;
  return {
    runId: 'pool',
    seed: 11,
    phaseIndex,
    phase,
    target,
    shardIndex: 0,
    shardCount: 1,
    concurrency: phase.load.concurrency,
    ...(phase.load.requests ? { requests: phase.load.requests } : {}),
    requestLog: 0,
  };
}

describe('slices in a real pool', () => {
  test('two threads: merged counts are the sum, merged percentiles are those of the added histograms', async () => {
    const shard = task(0);
    const startAtMs = Date.now() + 100;
    const slices: SliceTask[] = [0, 1].map((sliceIndex) => ({
      type: 'slice',
      task: shard,
      startAtMs,
      sliceIndex,
      concurrency: 2,
      firstLoop: sliceIndex * 2,
      workerName: 'w',
    }));
    const results = (await Promise.all(slices.map((slice) => pool.run(slice)))) as ShardResult[];
    const threadSeries = results.map((result) => Object.keys(result.memory.threadHeap)[0]);
    expect(new Set(threadSeries).size).toBe(2);
    const counts = results.map((result) => decodeHistogram(result.histograms.e2eUs).totalCount);
    expect(counts.every((count) => count > 0)).toBe(true);
    expect(counts[0]! + counts[1]!).toBe(60);

    const merged = mergeShardResults(results);
    expect(merged.requests.ok).toBe(results[0]!.requests.ok + results[1]!.requests.ok);
    expect(merged.tokens.output).toBe(results[0]!.tokens.output + results[1]!.tokens.output);
    const mergedE2e = decodeHistogram(merged.histograms.e2eUs);
    const added = mergeEncoded(results.map((result) => result.histograms.e2eUs));
    expect(mergedE2e.totalCount).toBe(60);
    for (const percentile of [50, 90, 99]) expect(mergedE2e.getValueAtPercentile(percentile)).toBe(added.getValueAtPercentile(percentile));
    expect(decodeHistogram(merged.histograms.ttftUs).totalCount).toBe(60);
    expect(merged.firstStartMs).toBe(Math.min(results[0]!.firstStartMs!, results[1]!.firstStartMs!));
  });

  test('run shard: warm-up sent but not recorded, memory sampled on both sides, progress throttled, shard info filled', async () => {
    const shard = task(1);
    const progress: ShardProgress[] = [];
    const sentBefore = mock.stats().requests;
    const startAtMs = Date.now() + 100;
    const result = await runShard(shard, pool, {
      startAtMs,
      workerName: 'tester',
      maxSlices: 2,
      onProgress: (update) => progress.push(update),
    });
    const sent = mock.stats().requests - sentBefore;
    const measured = result.requests.ok + result.requests.errors;
    expect(measured).toBeGreaterThan(20);
    // 0.5 s of warm-up at 4 in flight: many requests the recorder never counted.
    expect(sent - measured).toBeGreaterThan(10);
    expect(result.firstStartMs!).toBeGreaterThanOrEqual(startAtMs + 500);
    expect(result.lastEndMs!).toBeGreaterThan(result.firstStartMs!);

    expect(result.shards).toEqual([expect.objectContaining({ shardIndex: 0, worker: 'tester', threads: 2, attempts: 1 })]);
    expect(result.shards[0]!.durationMs).toBeGreaterThanOrEqual(1900);
    // 2 s at 100 ms: about 20 samples per series (allow a loaded machine to miss many).
    expect(result.memory.harnessRss.tester!.length).toBeGreaterThan(5);
    expect(result.memory.target.tester!.every((sample) => sample.bytes > 0)).toBe(true);
    expect(result.memory.targetSource).toBe('ollama-ps');
    expect(Object.keys(result.memory.threadHeap)).toHaveLength(2);

    // Each of 2 slices posts at most every 250 ms (plus a last one): at most ~2 × (2 s / 250 ms + 2).
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.length).toBeLessThanOrEqual(24);
    expect(progress.at(-1)).toMatchObject({ type: 'progress', shardIndex: 0, phaseIndex: 1 });
    expect(progress.at(-1)!.completed).toBeLessThanOrEqual(result.requests.ok);
  });

  test('a progress port passed to a slice receives its throttled updates', async () => {
    const channel = new MessageChannel();
    const updates: SliceProgress[] = [];
    channel.port1.on('message', (message: SliceProgress) => updates.push(message));
    const slice: SliceTask = {
      type: 'slice',
      task: task(0),
      startAtMs: Date.now() + 100,
      sliceIndex: 0,
      concurrency: 4,
      firstLoop: 0,
      workerName: 'w',
      progressPort: channel.port2,
    };
    const result = (await pool.run(slice, { transferList: [channel.port2] })) as ShardResult;
    // The last update is forced after the slice's requests; wait for it (bounded) before closing.
    for (let tries = 0; tries < 100 && updates.at(-1)?.progress.completed !== result.requests.ok; tries++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    channel.port1.close();
    expect(updates.at(-1)).toEqual({
      type: 'progress',
      sliceIndex: 0,
      progress: expect.objectContaining({ completed: 60, errors: 0, fraction: 1 }),
      lastFailure: null,
    });
  });
});

describe('local executor', () => {
  test("runs a phase's shards side by side and returns them in shard order; close() is idempotent", async () => {
    const executor = createLocalExecutor({ threads: 2 });
    try {
      const tasks = shardTasks(loaded, 2, target, 'pool');
      expect(tasks.map((shard) => [shard.shardIndex, shard.concurrency, shard.requests])).toEqual([
        [0, 2, 20],
        [1, 2, 20],
      ]);
      const results = await executor.runPhase(tasks);
      expect(results.map((result) => result.shards[0]!.shardIndex)).toEqual([0, 1]);
      expect(results.map((result) => result.requests.ok)).toEqual([20, 20]);
      // Conversations rotate over the phase's models.
      expect(mock.stats().loads.other).toBeGreaterThan(0);
    } finally {
      await Promise.all([executor.close(), executor.close()]);
      await executor.close();
    }
  });
});
