/**
 * Live totals over real runs (real threads, the real mock over HTTP): each shard's latest totals
 * (its threads' merged), summed, are exactly what the phase's result holds once it has ended (counts, span, histograms),
 * and judged they give the report's verdicts word for word; a phase whose windows are shorter than
 * half a second is judged live too, while it runs.
 */
import { judgeLive } from '../../src/coordinator/metrics/live-criteria';
import { buildPhaseReport } from '../../src/coordinator/reports/build-run-report';
import { resolveTarget } from '../../src/coordinator/resolve-target';
import type { RunEvent } from '../../src/coordinator/run-events';
import { runPlan } from '../../src/coordinator/run-plan';
import { shardTasks } from '../../src/coordinator/shard-tasks';
import { startMockLlm, type MockLlmServer } from '../../src/mock-llm';
import { createHistogram, decodeHistogram } from '../../src/shared/histogram';
import type { LiveTotals } from '../../src/shared/live-totals';
import { readPlan } from '../../src/shared/parse-plan';
import { mergeShardResults } from '../../src/shared/shard-result';
import type { ShardProgress } from '../../src/shared/shard-task';
import { mockOf } from '../../src/shared/target-schema';
import { createLocalExecutor } from '../../src/worker';

// Two phases of 3 s on four threads (two per shard: their totals are merged too), with their start-up.
jest.setTimeout(30_000);

const MOCK = `target:
  mock: { models: [{ name: m, ttft: 5ms, tokensPerSecond: 1000 }] }
`;
const loaded = readPlan(`name: live-totals
${MOCK}phases:
  - name: sharded
    scenario: requests
    models: [m]
    shards: 2
    load: { concurrency: 4, duration: 3s }
    conversation: { maxTokens: 12 }
    criteria:
      latency.e2e.p95: "< 5s"
      latency.ttft.p50: "< 1ms"
      latency.itl.p99: "< 1s"
      requests.total: ">= 10"
      requests.errorRate: "< 1%"
      throughput.rps: "> 1/s"
      throughput.outputTokensPerSecond: "> 1/s"
      concurrency.mean: "> 3.5"
      stability: "> 50%"
`);
const SHORT_WINDOWS = readPlan(`name: short-windows
${MOCK}phases:
  - name: short
    scenario: requests
    models: [m]
    load: { concurrency: 2, duration: 3s }
    conversation: { maxTokens: 12 }
    stability: { window: 200ms }
    criteria: { latency.e2e.p95: "< 5s", requests.total: ">= 1" }
`);

let mock: MockLlmServer;
const executor = createLocalExecutor({ threads: 4 });

beforeAll(async () => {
  mock = await startMockLlm(mockOf(loaded.plan.target)!);
});

afterAll(async () => {
  await executor.close();
  await mock.close();
});

function added(totals: LiveTotals[], name: keyof LiveTotals['histograms']) {
  const sum = createHistogram();
  for (const part of totals) if (part.histograms[name] !== '') sum.add(decodeHistogram(part.histograms[name]));
  return sum;
}

test("the shards' latest totals, once the phase has ended, are its result exactly, and judged give the report's verdicts", async () => {
  const phase = loaded.plan.phases[0]!;
  const latest = new Map<number, ShardProgress>();
  const results = await executor.runPhase(shardTasks(loaded, 0, resolveTarget(loaded.plan.target, mock.url), 'live'), (progress) =>
    latest.set(progress.shardIndex, progress),
  );
  expect(results.map((result) => result.shards[0]?.threads)).toEqual([2, 2]);
  const merged = mergeShardResults(results);
  const totals = [0, 1].map((shardIndex) => latest.get(shardIndex)?.totals);
  expect(totals.every((shard) => shard !== undefined)).toBe(true);
  const shards = totals as LiveTotals[];

  // Counts and span: the result's, to the request and the millisecond.
  expect(merged.requests.ok).toBeGreaterThan(10);
  expect({
    ok: shards.reduce((sum, shard) => sum + shard.ok, 0),
    errors: shards.reduce((sum, shard) => sum + shard.errors, 0),
    outputTokens: shards.reduce((sum, shard) => sum + shard.outputTokens, 0),
    inFlightMs: shards.reduce((sum, shard) => sum + shard.inFlightMs, 0),
    firstStartMs: Math.min(...shards.map((shard) => shard.firstStartMs!)),
    lastEndMs: Math.max(...shards.map((shard) => shard.lastEndMs!)),
  }).toEqual({
    ok: merged.requests.ok,
    errors: merged.requests.errors,
    outputTokens: merged.tokens.output,
    inFlightMs: merged.concurrency.inFlightIntegralMs,
    firstStartMs: merged.firstStartMs,
    lastEndMs: merged.lastEndMs,
  });
  // Histograms: the same values, so the same percentiles.
  for (const name of ['e2eUs', 'ttftUs', 'itlUs'] as const) {
    const live = added(shards, name);
    const result = decodeHistogram(merged.histograms[name]);
    expect(live.totalCount).toBeGreaterThan(0);
    const read = (histogram: typeof live) => [histogram.totalCount, ...[50, 90, 95, 99, 100].map((p) => histogram.getValueAtPercentile(p))];
    expect({ name, values: read(live) }).toEqual({ name, values: read(result) });
  }

  // Judged live, the report's words: every criterion the totals measure, and the others left to the end.
  const report = buildPhaseReport({ phase, merged, error: null });
  const judged = judgeLive(phase.criteria, shards)!;
  expect(judged.measuredMs).toBe(report.metrics.durationMs);
  const live = judged.criteria.map((item) => [item.metric, item.state === 'at-end' ? 'at-end' : item.state === 'holding', item.verdict]);
  const final = report.criteria.map((item) => [item.metric, item.metric === 'stability' ? 'at-end' : item.passed, item.verdict]);
  expect(live).toEqual(final.map(([metric, passed, verdict]) => [metric, passed, passed === 'at-end' ? null : verdict]));
  // One criterion cannot hold (a first token under 1 ms): the judgment is not all holding.
  expect(judged.criteria.find((item) => item.metric === 'latency.ttft.p50')?.state).toBe('broken');
});

test('a phase with windows under half a second is judged live while it runs', async () => {
  const events: RunEvent[] = [];
  const report = await runPlan(SHORT_WINDOWS, {
    executor,
    startMock: (config) => startMockLlm(config),
    onEvent: (event) => events.push(event),
  });
  const progress = events.filter((event): event is Extract<RunEvent, { type: 'progress' }> => event.type === 'progress');
  // While it runs (well before its end), its criteria hold so far: judged, not left to the end.
  const midPhase = progress.filter((event) => event.criteria && event.criteria.measuredMs > 500 && event.criteria.measuredMs < 2500);
  expect(midPhase.length).toBeGreaterThan(0);
  for (const event of midPhase) expect(event.criteria?.criteria.map((item) => item.state)).toEqual(['holding', 'holding']);
  // The last progress judged what the report judged.
  const last = progress.at(-1)?.criteria;
  expect(last?.measuredMs).toBe(report.phases[0]!.metrics.durationMs);
  expect(last?.criteria.map((item) => item.verdict)).toEqual(report.phases[0]!.criteria.map((item) => item.verdict));
});
