/** OpenAI-compatible variants against the mock: reasoning models and the legacy completions API. */
import { startMockLlm, type MockLlmServer } from '../../src/mock-llm';
import { plantFactText, probeText } from '../../src/shared/context-probe';
import { mockServerSchema } from '../../src/shared/mock-schema';
import type { OpenAiTarget } from '../../src/shared/resolved-target';
import { createOpenAiTarget } from '../../src/worker/targets/openai-target';

let mock: MockLlmServer;
let target: OpenAiTarget;

beforeAll(async () => {
  mock = await startMockLlm(
    mockServerSchema.parse({
      models: [
        { name: 'thinker', ttft: '20ms', tokensPerSecond: 200, loadTime: '0ms', reasoningTokens: 10 },
        { name: 'plain', ttft: '20ms', tokensPerSecond: 200, loadTime: '0ms' },
      ],
    }),
  );
  target = {
    kind: 'openai',
    endpoint: 'chat',
    baseUrl: `${mock.url}/v1`,
    stream: true,
    requestTimeoutMs: 5000,
    maxResponseBytes: 16e6,
    memory: { source: 'none' },
  };
});

afterAll(() => mock.close());

const fact = { key: 'raven-5', value: 'onyx-77' };
const conversation = [
  { role: 'system' as const, content: 'You help.' },
  { role: 'user' as const, content: plantFactText(fact) },
  { role: 'assistant' as const, content: 'Noted.' },
  { role: 'user' as const, content: probeText(fact.key) },
];

test('a reasoning model: thinking counts as output for timing, but the answer is kept apart from it', async () => {
  const outcome = await createOpenAiTarget(target, 1).send({ model: 'thinker', messages: conversation, maxTokens: 8 });
  if (!outcome.ok) throw new Error(outcome.message);
  expect(outcome.reasoning).toMatch(/^thought0 thought1/);
  expect(outcome.content).toBe('onyx-77');
  expect(outcome.content).not.toContain('thought');
  // Ten reasoning tokens and one answer token, all streamed: TTFT is the first reasoning token,
  // which the mock schedules 10 tokens at 200/s (50 ms) before the answer. The mock schedules from
  // the request's start, so on a loaded machine a late first chunk shortens the gap: bound the
  // answer from the start (20 ms TTFT + 50 ms) instead, which lateness can only lengthen.
  expect(outcome.contentChunkTimesMs).toHaveLength(11);
  expect(outcome.outputTokens).toBe(11);
  expect(outcome.firstContentMs).toBe(outcome.contentChunkTimesMs[0]);
  expect(outcome.firstContentMs!).toBeLessThan(outcome.contentChunkTimesMs[10]!);
  expect(outcome.contentChunkTimesMs[10]! - outcome.startMs).toBeGreaterThanOrEqual(69);
});

test('the legacy /v1/completions endpoint, streaming and not, with the conversation as one prompt', async () => {
  for (const stream of [true, false]) {
    const outcome = await createOpenAiTarget({ ...target, endpoint: 'completions', stream }, 1).send({
      model: 'plain',
      messages: conversation,
      maxTokens: 8,
    });
    expect(outcome).toMatchObject({ ok: true, content: 'onyx-77', usageFromServer: true, outputTokens: 1 });
  }
});
