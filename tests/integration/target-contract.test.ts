/**
 * One contract every target adapter keeps, run against each (as bull-board runs one suite for
 * its queue adapters): a turn succeeds with ordered timings and token counts, a failure comes
 * back classified instead of thrown, a slow answer is a timeout, conversations keep their own
 * context, and close() ends everything. Real HTTP against the built-in mock; the module target
 * loads a real module file.
 */
import { join } from 'node:path';
import { mockServerSchema } from '../../src/shared/mock-schema';
import type { ResolvedTarget } from '../../src/shared/resolved-target';
import { startMockLlm, type MockLlmServer } from '../../src/mock-llm';
import { createTarget } from '../../src/worker/targets/create-target';
import type { ChatRequest, LlmTarget, RequestOutcome, RequestSuccess } from '../../src/worker/targets/llm-target';
import { REPO_ROOT } from '../helpers/cli-process';

const TIMEOUT_MS = 300;

let mock: MockLlmServer;

beforeAll(async () => {
  mock = await startMockLlm(
    mockServerSchema.parse({
      maxLoadedModels: 3,
      models: [
        { name: 'fine', ttft: '5ms', tokensPerSecond: 1000, loadTime: '0ms' },
        { name: 'broken', ttft: '1ms', loadTime: '0ms', errorRate: '100%' },
        { name: 'stuck', ttft: '1ms', loadTime: '0ms', stallRate: '100%', stallTime: '5s' },
      ],
    }),
  );
});

afterAll(() => mock.close());

interface Subject {
  /** Whether the adapter streams, so that time to first token and chunk times exist. */
  streams: boolean;
  target(): ResolvedTarget;
}

const http = { stream: true, requestTimeoutMs: TIMEOUT_MS, maxResponseBytes: 16e6, memory: { source: 'none' as const } };
const subjects: Array<[string, Subject]> = [
  ['openai chat, streaming', { streams: true, target: () => ({ kind: 'openai', endpoint: 'chat', baseUrl: `${mock.url}/v1`, ...http }) }],
  [
    'openai chat, not streaming',
    { streams: false, target: () => ({ kind: 'openai', endpoint: 'chat', baseUrl: `${mock.url}/v1`, ...http, stream: false }) },
  ],
  [
    'openai completions',
    { streams: true, target: () => ({ kind: 'openai', endpoint: 'completions', baseUrl: `${mock.url}/v1`, ...http }) },
  ],
  ['ollama', { streams: true, target: () => ({ kind: 'ollama', baseUrl: mock.url, ...http }) }],
  [
    'module',
    {
      streams: false,
      target: () => ({
        kind: 'module',
        modulePath: join(REPO_ROOT, 'tests/fixtures/modules/contract-integration.js'),
        heapSnapshots: false,
        requestTimeoutMs: TIMEOUT_MS,
        memory: { source: 'thread-heap' },
      }),
    },
  ],
];

const turn = (model: string, content: string, conversationId = 'c1'): ChatRequest => ({
  conversationId,
  model,
  maxTokens: 4,
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content },
  ],
});

function expectSuccess(outcome: RequestOutcome): asserts outcome is RequestSuccess {
  expect(outcome).toMatchObject({ ok: true });
}

describe.each(subjects)('target contract: %s', (_name, subject) => {
  let target: LlmTarget;

  beforeEach(async () => {
    target = await createTarget(subject.target(), 2);
  });

  afterEach(() => target.close());

  test('a turn succeeds: an answer, token counts, and timings in order', async () => {
    const before = performance.now();
    const outcome = await target.send(turn('fine', 'hello there'));
    expectSuccess(outcome);
    expect(typeof outcome.content).toBe('string');
    expect(outcome.content.length).toBeGreaterThan(0);
    expect(outcome.outputTokens).toBeGreaterThan(0);
    expect(outcome.inputTokens).toBeGreaterThan(0);
    expect(outcome.startMs).toBeGreaterThanOrEqual(before);
    expect(outcome.endMs).toBeGreaterThanOrEqual(outcome.startMs);
    if (subject.streams) {
      expect(outcome.firstContentMs).not.toBeNull();
      expect(outcome.firstContentMs!).toBeGreaterThanOrEqual(outcome.startMs);
      expect(outcome.endMs).toBeGreaterThanOrEqual(outcome.firstContentMs!);
      expect(outcome.contentChunkTimesMs[0]).toBe(outcome.firstContentMs);
      expect([...outcome.contentChunkTimesMs].sort((a, b) => a - b)).toEqual(outcome.contentChunkTimesMs);
    } else {
      expect(outcome.firstContentMs).toBeNull();
      expect(outcome.contentChunkTimesMs).toEqual([]);
    }
  });

  test('a failing backend is a classified outcome, never an exception', async () => {
    const outcome = await target.send(turn('broken', 'hello'));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.errorClass).toMatch(/^(http_500|other)$/);
    expect(outcome.message.length).toBeGreaterThan(0);
    expect(outcome.endMs).toBeGreaterThanOrEqual(outcome.startMs);
  });

  test('an answer slower than requestTimeout is a timeout, returned about when the timeout expires', async () => {
    const outcome = await target.send(turn('stuck', 'hello'));
    expect(outcome).toMatchObject({ ok: false, errorClass: 'timeout' });
    // Not before the timeout; and long before the 5 s stall would have ended.
    expect(outcome.endMs - outcome.startMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 1);
    expect(outcome.endMs - outcome.startMs).toBeLessThan(5000);
  });

  test('turns of different conversations can be in flight together, and ending one does not break the other', async () => {
    const [a, b] = await Promise.all([target.send(turn('fine', 'first', 'a')), target.send(turn('fine', 'second', 'b'))]);
    expectSuccess(a);
    expectSuccess(b);
    await target.endConversation?.('a');
    expectSuccess(await target.send(turn('fine', 'again', 'b')));
  });

  test('close() resolves, even twice (and once more after each test)', async () => {
    await target.close();
    await target.close();
  });
});
