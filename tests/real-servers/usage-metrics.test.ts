/**
 * Token counts against the server's own counters: over a phase, the sum of the `usage` grym-perf
 * read from every answer equals what llama-server's /metrics counted meanwhile. Prompt tokens are
 * split there between evaluated (`llamacpp:prompt_tokens_total`) and reused from a slot's cache
 * (`llamacpp:prompt_tokens_cached_total`); `usage.prompt_tokens` is their sum. Conversations of
 * several turns make the cache part real. Chat and legacy completions, streamed and not: each
 * reads `usage` from a different place (a `choices: []` chunk, the finish chunk, the body).
 */
import { createLocalExecutor } from '../../src/worker';
import type { PlanInput } from '../../src/shared/plan-schema';
import { startLlamaServer, type TestLlamaServer } from '../helpers/llama-server';
import { recordFigures } from './helpers/record-figures';
import { runPhase } from './helpers/run-phase';
import { counterDelta, serverCounters } from './helpers/server-counters';

let server: TestLlamaServer;
const executor = createLocalExecutor({ threads: 1 });

beforeAll(async () => {
  server = await startLlamaServer({ model: 'tiny-a' });
});

afterAll(async () => {
  await executor.close();
  await server?.stop();
});

function usagePlan(endpoint: 'chat' | 'completions', stream: boolean): PlanInput {
  return {
    name: `usage-${endpoint}-${stream ? 'stream' : 'json'}`,
    target: { kind: 'openai', baseUrl: `${server.url}/v1`, endpoint, stream },
    phases: [
      {
        name: 'usage',
        scenario: 'requests',
        models: ['tiny-a'],
        load: { concurrency: 4, requests: 60, duration: '60s' },
        conversation: { turns: 5, promptTokens: 24, maxTokens: 12 },
      },
    ],
  };
}

test.each([
  ['chat', true],
  ['chat', false],
  ['completions', true],
  ['completions', false],
] as const)('%s, stream %s: usage summed over the phase equals the /metrics deltas', async (endpoint, stream) => {
  const before = await serverCounters(server.url);
  const report = await runPhase(executor, usagePlan(endpoint, stream));
  const counted = counterDelta(before, await serverCounters(server.url));
  const { tokens, requests } = report.metrics;
  recordFigures(`usage-metrics-${endpoint}-${stream ? 'stream' : 'json'}`, {
    requests: requests.total,
    ok: requests.ok,
    errors: requests.byClass,
    grymInputTokens: tokens.input,
    serverPromptTokens: counted.promptTokens,
    serverCachedPromptTokens: counted.cachedPromptTokens,
    grymOutputTokens: tokens.output,
    serverPredictedTokens: counted.predictedTokens,
    tokenSource: tokens.source,
  });

  expect(tokens.source).toBe('server');
  // The cache is in play (turns after the first reuse the history), so both parts are counted.
  expect(counted.cachedPromptTokens).toBeGreaterThan(0);
  expect(tokens.input).toBe(counted.promptTokens + counted.cachedPromptTokens);
  expect(tokens.output).toBe(counted.predictedTokens);
  expect(tokens.output).toBeGreaterThan(0);
});
