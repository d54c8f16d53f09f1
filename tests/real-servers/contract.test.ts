/**
 * The OpenAI-compatible target against llama-server's real protocol, each answer held against
 * what the server itself logged and counted for it: chat and legacy completions, streamed and
 * not, one request at a time through the target adapter, then an open-loop phase through the
 * local executor.
 *
 * What the real server does that a target must get right: a streamed chat answer opens with a
 * role-only chunk (`delta: {role: "assistant", content: null}`) and ends with a finish chunk
 * (`delta: {}`), neither of them a token; `usage` comes in an extra `choices: []` chunk (chat) or
 * on the finish chunk (completions); one chunk per token, except that a token ending inside a
 * UTF-8 character is held and sent with the next. So the content chunks of an answer are its
 * completion tokens or slightly fewer, never more, and the first of them arrives after the
 * server's prompt processing (`prompt_ms`).
 */
import { createLocalExecutor } from '../../src/worker';
import { createTarget } from '../../src/worker/targets/create-target';
import type { RequestOutcome } from '../../src/worker/targets/llm-target';
import type { PlanInput } from '../../src/shared/plan-schema';
import type { OpenAiTarget } from '../../src/shared/resolved-target';
import { startLlamaServer, type TestLlamaServer } from '../helpers/llama-server';
import { median } from './helpers/median';
import { ms, recordFigures } from './helpers/record-figures';
import { runPhase } from './helpers/run-phase';
import { counterDelta, serverCounters } from './helpers/server-counters';
import { logLinesWhen, serverTimings, type ServerTiming } from './helpers/server-log';

/** Tokens a held UTF-8 piece may merge away from an answer's chunk count (300 tokens gave 299 chunks once). */
const MERGED_CHUNKS = 2;
const MAX_TOKENS = 24;
const OPEN_RATE = 15;
const OPEN_DURATION_MS = 3000;

let server: TestLlamaServer;
const executor = createLocalExecutor({ threads: 1 });

beforeAll(async () => {
  server = await startLlamaServer({ model: 'tiny-a' });
});

afterAll(async () => {
  await executor.close();
  await server?.stop();
});

function resolvedTarget(endpoint: 'chat' | 'completions', stream: boolean): OpenAiTarget {
  return {
    kind: 'openai',
    endpoint,
    baseUrl: `${server.url}/v1`,
    stream,
    requestTimeoutMs: 30_000,
    maxResponseBytes: 16e6,
    memory: { source: 'none' },
  };
}

/** A prompt of ~150 words no earlier request began with, so the server really processes it. */
const freshPrompt = (label: string) =>
  `${label}: ${Array.from({ length: 150 }, (_, index) => ['rivers', 'copper', 'lanterns', 'orbit', 'meadow'][(index * 7 + label.length) % 5]).join(' ')}`;

/**
 * One request through a fresh target (its own pool: a first request on a new connection cannot
 * race a close, which connection-errors.test.ts covers), with what the server logged and counted for it.
 */
async function sendOnce(endpoint: 'chat' | 'completions', stream: boolean, label: string) {
  const target = await createTarget(resolvedTarget(endpoint, stream), 1);
  try {
    const before = await serverCounters(server.url);
    const mark = server.lineCount();
    const outcome = await target.send({
      model: 'tiny-a',
      messages: [{ role: 'user', content: freshPrompt(label) }],
      maxTokens: MAX_TOKENS,
    });
    const [timing] = serverTimings(await logLinesWhen(server, mark, (lines) => serverTimings(lines).length >= 1));
    const counted = counterDelta(before, await serverCounters(server.url));
    return { outcome, timing: timing as ServerTiming, counted };
  } finally {
    await target.close();
  }
}

function expectOk(outcome: RequestOutcome): asserts outcome is Extract<RequestOutcome, { ok: true }> {
  if (!outcome.ok) throw new Error(`request failed: ${outcome.errorClass}: ${outcome.message}`);
}

describe.each([
  ['chat', true],
  ['chat', false],
  ['completions', true],
  ['completions', false],
] as const)('%s, stream %s', (endpoint, stream) => {
  test('one request: tokens are the server usage, TTFT and e2e cover its prompt and generation times, no role chunk counted', async () => {
    const figures: Array<Record<string, unknown>> = [];
    for (let index = 0; index < 3; index++) {
      const { outcome, timing, counted } = await sendOnce(endpoint, stream, `${endpoint} ${stream} request ${index}`);
      expectOk(outcome);
      const ttftMs = outcome.firstContentMs === null ? null : outcome.firstContentMs - outcome.startMs;
      const e2eMs = outcome.endMs - outcome.startMs;
      figures.push({
        outputTokens: outcome.outputTokens,
        serverPredicted: timing.predictedTokens,
        contentChunks: outcome.contentChunkTimesMs.length,
        inputTokens: outcome.inputTokens,
        serverPrompt: counted.promptTokens + counted.cachedPromptTokens,
        ttftMs: ms(ttftMs),
        serverPromptMs: timing.promptMs,
        e2eMs: ms(e2eMs),
        serverPromptPlusPredictedMs: ms(timing.promptMs + timing.predictedMs),
      });

      expect(outcome.usageFromServer).toBe(true);
      expect(outcome.content.length).toBeGreaterThan(0);
      expect(outcome.outputTokens).toBe(timing.predictedTokens);
      expect(outcome.outputTokens).toBe(counted.predictedTokens);
      expect(outcome.inputTokens).toBe(counted.promptTokens + counted.cachedPromptTokens);
      expect(e2eMs).toBeGreaterThanOrEqual(timing.promptMs + timing.predictedMs);
      if (stream) {
        expect(ttftMs).toBeGreaterThanOrEqual(timing.promptMs);
        expect(outcome.firstContentMs).toBe(outcome.contentChunkTimesMs[0]);
        // A counted role-only or finish chunk would make more chunks than tokens.
        expect(outcome.contentChunkTimesMs.length).toBeLessThanOrEqual(outcome.outputTokens);
        expect(outcome.contentChunkTimesMs.length).toBeGreaterThanOrEqual(outcome.outputTokens - MERGED_CHUNKS);
      } else {
        expect(outcome.firstContentMs).toBeNull();
        expect(outcome.contentChunkTimesMs).toEqual([]);
      }
    }
    recordFigures(`contract-${endpoint}-${stream ? 'stream' : 'json'}`, { requests: figures });
  });
});

function openLoopPlan(): PlanInput {
  return {
    name: 'contract-open-loop',
    target: { kind: 'openai', baseUrl: `${server.url}/v1`, stream: true },
    phases: [
      {
        name: 'open',
        scenario: 'requests',
        models: ['tiny-a'],
        // 15/s of ~40 ms answers: the server keeps up, so every arrival is answered. 3 s exactly: the
        // arrival due at the phase's end (3000 ms) must be neither sent nor counted.
        load: { mode: 'open', rate: OPEN_RATE, concurrency: 8, duration: `${OPEN_DURATION_MS}ms` },
        conversation: { turns: 4, promptTokens: 24, maxTokens: 12 },
      },
    ],
  };
}

test('open-loop phase: every arrival measured, response time from the schedule, tokens and answers as the server counted them', async () => {
  const before = await serverCounters(server.url);
  const mark = server.lineCount();
  const report = await runPhase(executor, openLoopPlan());
  const { requests, tokens, latency, load } = report.metrics;
  const timings = serverTimings(await logLinesWhen(server, mark, (lines) => serverTimings(lines).length >= requests.ok));
  const counted = counterDelta(before, await serverCounters(server.url));
  const serverPromptMs = median(timings.map((timing) => timing.promptMs));
  recordFigures('contract-open-loop', {
    scheduled: load.scheduled,
    late: load.late,
    dropped: load.dropped,
    requests: requests.total,
    ok: requests.ok,
    errors: requests.byClass,
    serverFinished: timings.length,
    inputTokens: tokens.input,
    serverPromptTokens: counted.promptTokens + counted.cachedPromptTokens,
    outputTokens: tokens.output,
    serverPredictedTokens: counted.predictedTokens,
    itlGaps: latency.itl?.count ?? 0,
    ttftP50Ms: latency.ttft?.p50,
    serverPromptMsP50: ms(serverPromptMs),
    e2eP50Ms: latency.e2e?.p50,
    responseP50Ms: latency.response?.p50,
  });

  expect(load.mode).toBe('open');
  // Evenly spaced from the phase start (0, 66.7, ... 2933 ms): rate x duration arrivals, 45 in 3 s at 15/s.
  expect(load.scheduled).toBe((OPEN_RATE * OPEN_DURATION_MS) / 1000);
  expect(load.dropped).toBe(0);
  expect(requests.total).toBe(load.scheduled);
  // False connection errors are connection-errors.test.ts's subject; no other class may appear.
  expect(Object.keys(requests.byClass).filter((errorClass) => errorClass !== 'connection_reset')).toEqual([]);
  expect(timings).toHaveLength(requests.ok);
  expect(tokens.source).toBe('server');
  expect(tokens.input).toBe(counted.promptTokens + counted.cachedPromptTokens);
  expect(tokens.output).toBe(counted.predictedTokens);
  // One gap between consecutive content chunks: tokens - 1 per answer, a few fewer when UTF-8 pieces merge.
  const gaps = latency.itl?.count ?? 0;
  expect(gaps).toBeLessThanOrEqual(tokens.output - requests.ok);
  expect(gaps).toBeGreaterThanOrEqual(tokens.output - requests.ok - MERGED_CHUNKS * requests.ok);
  expect(latency.ttft!.p50).toBeGreaterThanOrEqual(serverPromptMs);
  // Response time counts from the schedule, so it is not below the service time, except that the
  // dispatcher sends an arrival due within 1 ms at once instead of sleeping (measured: 28.27 vs 28.30 ms).
  expect(latency.response!.p50).toBeGreaterThanOrEqual(latency.e2e!.p50 - 1);
  expect(latency.response!.count).toBe(requests.ok);
});
