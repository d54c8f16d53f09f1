/**
 * What grym-perf adds to time to first token (issue 9): the same streamed requests against the same
 * mock (its own process, a fixed 50 ms to the first token), sent by a plain `fetch` loop that only
 * looks for the first content chunk, and by a grym-perf phase in a worker thread, at concurrency 1,
 * 4 and 16. The plain loop's TTFT is the baseline: what grym-perf reads above it is its own cost
 * (parsing, recording, scheduling), the number a user would read as the server's.
 */
import { performance } from 'node:perf_hooks';
import type { LoadedPlan } from '../src/shared/parse-plan';
import { computePhaseMetrics } from '../src/coordinator/metrics/compute-phase-metrics';
import { resolveTarget } from '../src/coordinator/resolve-target';
import { shardTasks } from '../src/coordinator/shard-tasks';
import { mergeShardResults } from '../src/shared/shard-result';
import { createLocalExecutor } from '../src/worker';

const MOCK_TTFT_MS = 50;
const WARMUP_MS = 1000;
const MEASURE_MS = 5000;
const MAX_TOKENS = 16;
/** A content delta with at least one character: the role-only chunk that opens a stream is not a token. */
const FIRST_CONTENT = /"content":"[^"]/;

export interface AddedTtftTools {
  startMock(models: unknown[]): Promise<{ url: string }>;
  planFor(url: string, phase: Record<string, unknown>): LoadedPlan;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** One streamed request; the time from sending it to the first content chunk, and the rest read to the end. */
async function plainTtftMs(url: string, index: number): Promise<number> {
  const startMs = performance.now();
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'steady',
      stream: true,
      max_tokens: MAX_TOKENS,
      messages: [{ role: 'user', content: `plain request ${index}: tell me about the weather in a few words` }],
    }),
  });
  const decoder = new TextDecoder();
  let ttftMs: number | null = null;
  for await (const piece of response.body as AsyncIterable<Uint8Array>) {
    if (ttftMs === null && FIRST_CONTENT.test(decoder.decode(piece, { stream: true }))) ttftMs = performance.now() - startMs;
  }
  if (ttftMs === null) throw new Error('a plain stream ended without content');
  return ttftMs;
}

/** `concurrency` plain loops for the warm-up and the measured time; TTFTs of requests started in the measured part. */
async function plainTtfts(url: string, concurrency: number): Promise<number[]> {
  const measured: number[] = [];
  const startMs = performance.now();
  let next = 0;
  const loop = async () => {
    while (performance.now() - startMs < WARMUP_MS + MEASURE_MS) {
      const sentAtMs = performance.now() - startMs;
      const ttftMs = await plainTtftMs(url, next++);
      if (sentAtMs >= WARMUP_MS) measured.push(ttftMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return measured.sort((a, b) => a - b);
}

export async function addedTtft(tools: AddedTtftTools): Promise<void> {
  const mock = await tools.startMock([{ name: 'steady', ttft: `${MOCK_TTFT_MS}ms`, tokensPerSecond: 400, loadTime: '0ms' }]);
  console.log(`\n## 6. Time to first token added by grym-perf over a plain fetch loop (mock: ${MOCK_TTFT_MS} ms to first token)`);
  console.log('| concurrency | plain fetch TTFT p50 / p95 | grym-perf TTFT p50 / p95 | added p50 / p95 | grym-perf GC pauses p99 |');
  console.log('|---|---|---|---|---|');
  const executor = createLocalExecutor({ threads: 1 });
  try {
    for (const concurrency of [1, 4, 16]) {
      const plain = await plainTtfts(mock.url, concurrency);
      const loaded = tools.planFor(mock.url, {
        models: ['steady'],
        load: { concurrency, duration: `${MEASURE_MS}ms`, warmup: `${WARMUP_MS}ms` },
        conversation: { turns: 4, promptTokens: 12, maxTokens: MAX_TOKENS },
      });
      const results = await executor.runPhase(shardTasks(loaded, 0, resolveTarget(loaded.plan.target), 'bench'));
      const metrics = computePhaseMetrics(mergeShardResults(results), loaded.plan.phases[0]!);
      const ttft = metrics.latency.ttft!;
      const [p50, p95] = [quantile(plain, 0.5), quantile(plain, 0.95)];
      const cells = [
        `${concurrency}`,
        `${p50.toFixed(2)} / ${p95.toFixed(2)} ms (${plain.length} requests)`,
        `${ttft.p50.toFixed(2)} / ${ttft.p95.toFixed(2)} ms (${ttft.count} requests)`,
        `${(ttft.p50 - p50).toFixed(2)} / ${(ttft.p95 - p95).toFixed(2)} ms`,
        metrics.memory.gcPauses ? `${metrics.memory.gcPauses.p99.toFixed(1)} ms` : 'none',
      ];
      console.log(`| ${cells.join(' | ')} |`);
    }
  } finally {
    await executor.close();
  }
}
