/**
 * The built-in mock LLM over real HTTP on loopback: its formats, its timing, its memory of the
 * conversation and its faults are what the rest of grym-perf is measured against.
 */
import { request } from 'undici';
import { startMockLlm, type MockLlmServer } from '../../src/mock-llm';
import { plantFactText, probeText } from '../../src/shared/context-probe';
import { mockServerSchema } from '../../src/shared/mock-schema';

let mock: MockLlmServer;

beforeAll(async () => {
  mock = await startMockLlm(
    mockServerSchema.parse({
      seed: 9,
      maxLoadedModels: 1,
      models: [
        { name: 'timed', ttft: '40ms', tokensPerSecond: 200, loadTime: '150ms', memory: '3GB', leakPerLoad: '10MB' },
        { name: 'other', ttft: '10ms', tokensPerSecond: 1000, loadTime: '100ms', memory: '5GB' },
        { name: 'narrow', contextWindowTokens: 60, ttft: '1ms', tokensPerSecond: 5000, loadTime: '0ms' },
        { name: 'flaky', ttft: '1ms', tokensPerSecond: 5000, loadTime: '0ms', errorRate: '30%', stallRate: '20%', stallTime: '50ms' },
      ],
    }),
  );
});

afterAll(() => mock.close());

async function chat(body: Record<string, unknown>): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  const response = await request(`${mock.url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  const text = await response.body.text();
  return { status: response.statusCode, text, ms: performance.now() - started };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

test('streams OpenAI SSE: a role-only chunk first, one token per chunk, usage last, then [DONE]', async () => {
  const { status, text } = await chat({
    model: 'other',
    stream: true,
    max_tokens: 5,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'hello there' }],
  });
  expect(status).toBe(200);
  const events = text
    .split('\n\n')
    .filter(Boolean)
    .map((event) => event.replace(/^data: /, ''));
  expect(events.at(-1)).toBe('[DONE]');
  const chunks = events.slice(0, -1).map((event) => JSON.parse(event));
  expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant' });
  expect(
    chunks
      .slice(1, 6)
      .map((chunk) => chunk.choices[0].delta.content)
      .join('')
      .split(' '),
  ).toHaveLength(5);
  expect(chunks.at(-2).choices[0].finish_reason).toBe('length');
  expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 } });
});

test('answers are deterministic: the same request gets the same text', async () => {
  const messages = [{ role: 'user', content: 'same question' }];
  const plain = JSON.parse((await chat({ model: 'other', max_tokens: 6, messages })).text);
  const again = JSON.parse((await chat({ model: 'other', max_tokens: 6, messages })).text);
  expect(plain.choices[0].message.content).toBe(again.choices[0].message.content);
  expect(plain.usage.completion_tokens).toBe(6);
});

test('timing follows the model: e2e median = ttft + (n - 1) / rate within a few ms; a switch pays the load time once', async () => {
  const cold = await chat({ model: 'timed', max_tokens: 11, messages: [{ role: 'user', content: 'warm up' }] });
  const warm: number[] = [];
  for (let i = 0; i < 15; i++)
    warm.push((await chat({ model: 'timed', max_tokens: 11, messages: [{ role: 'user', content: `q${i}` }] })).ms);
  // 40 ms + 10 tokens / 200 per s = 90 ms.
  expect(median(warm)).toBeGreaterThanOrEqual(89);
  expect(median(warm)).toBeLessThan(97);
  expect(cold.ms - median(warm)).toBeGreaterThanOrEqual(145);
  expect(mock.stats().loads.timed).toBe(1);
});

test('/api/ps shows the resident model with its memory and what its reloads leaked', async () => {
  await chat({ model: 'timed', max_tokens: 1, messages: [{ role: 'user', content: 'a' }] });
  const before = (await (await request(`${mock.url}/api/ps`)).body.json()) as { models: Array<{ name: string; size: number }> };
  await chat({ model: 'other', max_tokens: 1, messages: [{ role: 'user', content: 'b' }] });
  await chat({ model: 'timed', max_tokens: 1, messages: [{ role: 'user', content: 'c' }] });
  const after = (await (await request(`${mock.url}/api/ps`)).body.json()) as { models: Array<{ name: string; size: number }> };
  expect(before.models.map((m) => m.name)).toEqual(['timed']);
  expect(after.models).toHaveLength(1);
  expect(after.models[0]!.size - before.models[0]!.size).toBe(10e6);
});

test('answers recall probes only from what fits in the context window', async () => {
  const fact = { key: 'falcon-1', value: 'amber-7' };
  const filler = (n: number) => Array.from({ length: n }, () => 'word').join(' ');
  const conversation = (fillerTurns: number) => [
    { role: 'system', content: 'You help.' },
    { role: 'user', content: plantFactText(fact) },
    { role: 'assistant', content: 'ok' },
    ...Array.from({ length: fillerTurns }, () => [
      { role: 'user', content: filler(10) },
      { role: 'assistant', content: 'ok' },
    ]).flat(),
    { role: 'user', content: probeText(fact.key) },
  ];
  const short = JSON.parse((await chat({ model: 'narrow', max_tokens: 20, messages: conversation(1) })).text);
  const long = JSON.parse((await chat({ model: 'narrow', max_tokens: 20, messages: conversation(6) })).text);
  expect(short.choices[0].message.content).toContain('amber-7');
  expect(long.choices[0].message.content).not.toContain('amber-7');
  expect(long.choices[0].message.content).toContain('do not know');
});

test('injects errors and stalls at about the configured rates, the same way every time', async () => {
  const outcomes = async () => {
    const results: string[] = [];
    for (let i = 0; i < 100; i++) {
      // Requests go one at a time, so the mock's stall counter tells which one it stalled.
      const stallsBefore = mock.stats().stallsInjected;
      const { status, ms } = await chat({ model: 'flaky', max_tokens: 2, messages: [{ role: 'user', content: `request ${i}` }] });
      const stalled = mock.stats().stallsInjected > stallsBefore;
      if (stalled) expect(ms).toBeGreaterThanOrEqual(49);
      results.push(status === 500 ? 'error' : stalled ? 'stall' : 'ok');
    }
    return results;
  };
  const first = await outcomes();
  expect(first.filter((o) => o === 'error').length).toBeGreaterThan(15);
  expect(first.filter((o) => o === 'error').length).toBeLessThan(45);
  expect(first.filter((o) => o === 'stall').length).toBeGreaterThan(5);
  expect(await outcomes()).toEqual(first);
});

test('clear errors for unknown models, bad bodies and routes', async () => {
  expect((await chat({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })).status).toBe(404);
  const bad = await request(`${mock.url}/v1/chat/completions`, { method: 'POST', body: '{not json' });
  expect(bad.statusCode).toBe(400);
  await bad.body.dump();
  const missing = await request(`${mock.url}/v2/nothing`);
  expect(missing.statusCode).toBe(404);
  await missing.body.dump();
  // A body past 16 MiB is refused, not held: the mock's memory stays bounded whatever a client sends.
  const huge = await request(`${mock.url}/v1/chat/completions`, { method: 'POST', body: Buffer.alloc(64 * 1024 * 1024, 0x20) });
  expect(huge.statusCode).toBe(413);
  expect(await huge.body.text()).toContain('request body over 16777216 bytes');
});

test('speaks Ollama: /api/chat streams NDJSON with load_duration, /api/tags and /v1/models list the models', async () => {
  const response = await request(`${mock.url}/api/chat`, {
    method: 'POST',
    body: JSON.stringify({ model: 'other', options: { num_predict: 3 }, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const lines = (await response.body.text())
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(lines).toHaveLength(4);
  expect(lines.at(-1)).toMatchObject({ done: true, eval_count: 3, prompt_eval_count: 1 });
  expect(typeof lines.at(-1).load_duration).toBe('number');
  const tags = (await (await request(`${mock.url}/api/tags`)).body.json()) as { models: unknown[] };
  const models = (await (await request(`${mock.url}/v1/models`)).body.json()) as { data: Array<{ id: string }> };
  expect(tags.models).toHaveLength(4);
  expect(models.data.map((m) => m.id)).toContain('narrow');
});

test('the mock knows how late it answered: a stall of its process shows in its lateness, by its own clock', async () => {
  mock.takeLateness();
  // Nothing in the way: first tokens leave on schedule (timer granularity and the machine's own noise).
  for (let i = 0; i < 5; i++)
    await chat({ model: 'timed', stream: true, max_tokens: 1, messages: [{ role: 'user', content: `on time ${i}` }] });
  const onTime = mock.takeLateness();
  expect(onTime?.count).toBe(5);

  // The first token is due 40 ms after the request arrives; this process is held for 150 ms from
  // the moment it did, so the token leaves at least 100 ms late whatever else the machine does.
  const sent = chat({ model: 'timed', stream: true, max_tokens: 1, messages: [{ role: 'user', content: 'stalled' }] });
  const generations = mock.stats().generations;
  while (mock.stats().generations === generations) await new Promise((resolve) => setImmediate(resolve));
  const heldUntil = performance.now() + 150;
  while (performance.now() < heldUntil);
  await sent;
  const stalled = mock.takeLateness();
  expect(stalled?.count).toBe(1);
  expect(stalled!.max).toBeGreaterThanOrEqual(100);
  // Calibrated against the quiet requests just measured: the stall stands far above them.
  expect(stalled!.max).toBeGreaterThan(onTime!.max + 50);
});
