/** The Ollama target against the mock's /api/chat over real HTTP, and against broken servers. */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mockOf } from '../../src/shared/target-schema';
import { startMockLlm, type MockLlmServer } from '../../src/mock-llm';
import { computePhaseMetrics } from '../../src/coordinator/metrics/compute-phase-metrics';
import { resolveTarget } from '../../src/coordinator/resolve-target';
import { shardTasks } from '../../src/coordinator/shard-tasks';
import { readPlan } from '../../src/shared/parse-plan';
import { mergeShardResults } from '../../src/shared/shard-result';
import type { OllamaTarget } from '../../src/shared/resolved-target';
import { createLocalExecutor } from '../../src/worker';
import { createOllamaTarget } from '../../src/worker/targets/ollama-target';

// A model-switch phase with real load times.
jest.setTimeout(60_000);

const loaded = readPlan(`
name: ollama
target:
  kind: ollama
  keepAlive: 5m
  mock:
    models:
      - { name: small, ttft: 30ms, tokensPerSecond: 500, loadTime: 250ms }
      - { name: large, ttft: 40ms, tokensPerSecond: 400, loadTime: 400ms }
      - { name: broken, ttft: 1ms, errorRate: 100% }
phases:
  - { name: switch, scenario: model-switch, models: [small, large], switch: { cycles: 2, requestsPerModel: 3 }, conversation: { maxTokens: 6 } }
`);
const { plan } = loaded;
let mock: MockLlmServer;
let target: OllamaTarget;

beforeAll(async () => {
  mock = await startMockLlm(mockOf(plan.target)!);
  target = resolveTarget(plan.target, mock.url) as OllamaTarget;
});

afterAll(() => mock.close());

const send = (t: OllamaTarget, model = 'small') =>
  createOllamaTarget(t, 1).send({ model, messages: [{ role: 'user', content: 'hello' }], maxTokens: 4 });

async function serveOnce(handler: (request: IncomingMessage, body: string) => string): Promise<{ url: string; close(): void }> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => response.end(handler(request, body)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

test('streams NDJSON: TTFT at the first content, tokens from eval_count, load time from load_duration', async () => {
  expect(target.baseUrl).toBe(mock.url);
  const cold = await send(target, 'large');
  if (!cold.ok) throw new Error(cold.message);
  expect(cold).toMatchObject({ outputTokens: 4, usageFromServer: true });
  expect(cold.loadMs).toBeGreaterThanOrEqual(395);
  expect(cold.firstContentMs! - cold.startMs).toBeGreaterThanOrEqual(cold.loadMs! + 39);
  const warm = await send(target, 'large');
  expect(warm.ok && warm.loadMs).toBeLessThan(1);
});

test('non-streaming returns the whole message; errors are classified', async () => {
  expect(await send({ ...target, stream: false })).toMatchObject({ ok: true, firstContentMs: null, outputTokens: 4 });
  expect(await send(target, 'broken')).toMatchObject({ ok: false, errorClass: 'http_500' });
  expect(await send(target, 'missing')).toMatchObject({ ok: false, errorClass: 'http_404' });
});

test('sends keep_alive and num_predict; an error or a broken line mid-stream is a malformed response', async () => {
  let seen: Record<string, unknown> = {};
  const good = await serveOnce((_request, body) => {
    seen = JSON.parse(body);
    return '{"message":{"content":"hi"},"done":false}\n{"done":true,"eval_count":1}\n';
  });
  expect(await send({ ...target, baseUrl: good.url })).toMatchObject({ ok: true, content: 'hi' });
  expect(seen).toMatchObject({ keep_alive: '300s', options: { num_predict: 4 }, stream: true });
  good.close();
  for (const reply of [
    '{"message":{"content":"a"},"done":false}\n{"error":"out of memory"}\n',
    '{"message":{"content":"a"},"done":false}\nnot json\n',
    '{"message":{"content":"a"},"done":false}\n',
  ]) {
    const broken = await serveOnce(() => reply);
    expect(await send({ ...target, baseUrl: broken.url })).toMatchObject({ ok: false, errorClass: 'malformed_response' });
    broken.close();
  }
});

test('a model-switch phase reports the server-side load time of each switch', async () => {
  const executor = createLocalExecutor({ threads: 1 });
  try {
    const results = await executor.runPhase(shardTasks(loaded, 0, target, 'r'));
    const metrics = computePhaseMetrics(mergeShardResults(results), plan.phases[0]!);
    expect(metrics.switch.count).toBe(3);
    // Loads of 250 ms (small) and 400 ms (large): every switch, plus the first request's if its
    // model was not resident already (earlier tests may have left it loaded).
    expect(metrics.switch.loadTime!.count).toBeGreaterThanOrEqual(3);
    expect(metrics.switch.loadTime!.count).toBeLessThanOrEqual(4);
    expect(metrics.switch.loadTime!.min).toBeGreaterThanOrEqual(249);
    expect(metrics.switch.loadTime!.max).toBeLessThan(450);
  } finally {
    await executor.close();
  }
});
