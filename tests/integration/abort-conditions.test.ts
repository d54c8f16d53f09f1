/**
 * The plan's abort conditions and the phase time limit, through the real local executor (two
 * threads, real HTTP): the phase stops early with the condition in words, one thread's trip stops
 * the other, requests the harness abandons are counted for nothing, and an interrupt through the
 * executor's stop signal stops the phase the same way.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { computePhaseMetrics } from '../../src/coordinator/metrics/compute-phase-metrics';
import { shardTasks } from '../../src/coordinator/shard-tasks';
import { readPlan } from '../../src/shared/parse-plan';
import type { OpenAiTarget } from '../../src/shared/resolved-target';
import { mergeShardResults } from '../../src/shared/shard-result';
import { createLocalExecutor } from '../../src/worker';
import type { ShardExecutor } from '../../src/shared/shard-task';

// Each phase stops within a few seconds; thread start-up adds a second or two.
jest.setTimeout(30_000);

/** A request to this model hangs this long: longer than any phase here may take. */
const STALL_MS = 20_000;

let sent = { fail: 0, ok: 0, stall: 0, flaky: 0 };

async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const { model } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: keyof typeof sent };
  const count = ++sent[model];
  const ok = (): void => {
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ choices: [{ message: { content: 'fine' } }], usage: { prompt_tokens: 1, completion_tokens: 1 } }));
  };
  const fail = (): void => {
    response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"model crashed"}}');
  };
  if (model === 'fail') return fail();
  // Every other request fails: a 50 % error rate, but never two failures in a row from one conversation.
  if (model === 'flaky') return count % 2 === 0 ? fail() : ok();
  if (model === 'stall') {
    const timer = setTimeout(ok, STALL_MS);
    response.on('close', () => clearTimeout(timer));
    return;
  }
  // 'ok' answers after 20 ms, so a phase capped by requests alone runs as long as its time limit lets it.
  setTimeout(ok, 20);
}

const server = createServer((request, response) => void answer(request, response).catch(() => request.socket.destroy()));

const loaded = readPlan(`
name: aborts
target: { baseUrl: http://127.0.0.1:1/v1, stream: false }
phases:
  # Loop 0 (thread 0) fails fast, loop 1 (thread 1) hangs: the fast thread's trip must stop the other.
  - name: consecutive
    scenario: requests
    models: [fail, stall]
    load: { concurrency: 2, duration: 10s }
    abort: { consecutiveFailures: 5 }
  - name: rate
    scenario: requests
    models: [flaky]
    load: { concurrency: 2, duration: 10s }
    abort: { errorRate: { above: 30%, window: 5s, minRequests: 40 } }
  - { name: limited, scenario: requests, models: [ok], load: { concurrency: 2, requests: 1000000 }, timeLimit: 1s }
  # Conversations of 100 turns: loop 0 stays on 'ok' (a new conversation would rotate it to 'stall').
  - name: interrupted
    scenario: requests
    models: [ok, stall]
    load: { concurrency: 2, duration: 10s }
    conversation: { turns: 100, promptTokens: 1 }
  # Two shards judged and stopped as one phase (the local executor's phase control, as a distributed run's guard):
  # shard 1 holds conversations ok, ok, fail; shard 2 holds ok, ok and never fails.
  - name: sibling
    scenario: requests
    models: [ok, ok, fail]
    load: { concurrency: 5, duration: 10s }
    conversation: { turns: 100, promptTokens: 1 }
    shards: 2
    abort: { consecutiveFailures: 5 }
  - name: phase-rate
    scenario: requests
    models: [flaky]
    load: { concurrency: 2, duration: 10s }
    shards: 2
    abort: { errorRate: { above: 30%, window: 5s, minRequests: 60 } }
`);

let executor: ShardExecutor;
let target: OpenAiTarget;
const interrupt = new AbortController();

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target = {
    kind: 'openai',
    endpoint: 'chat',
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    stream: false,
    requestTimeoutMs: 30_000,
    maxResponseBytes: 16e6,
    memory: { source: 'none' },
  };
  executor = createLocalExecutor({ threads: 2, stopSignal: interrupt.signal });
});

beforeEach(() => {
  sent = { fail: 0, ok: 0, stall: 0, flaky: 0 };
});

afterAll(async () => {
  await executor.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function runPhase(name: string) {
  const phaseIndex = loaded.plan.phases.findIndex((phase) => phase.name === name);
  const results = await executor.runPhase(shardTasks(loaded, phaseIndex, target, 'aborts'));
  // The shard's own duration: from when it started, after the pool's threads were up.
  const elapsedMs = results[0]!.shards[0]!.durationMs;
  return { results, elapsedMs, metrics: computePhaseMetrics(mergeShardResults(results), loaded.plan.phases[phaseIndex]!) };
}

describe('abort conditions', () => {
  test('consecutive failures: one thread trips, the other stops too and its hanging request is abandoned, not counted', async () => {
    const { results, elapsedMs, metrics } = await runPhase('consecutive');
    expect(results[0]!.shards[0]!.threads).toBe(2);
    expect(metrics.stopped?.reason).toBe('5 consecutive failed requests (http_500: {"error":{"message":"model crashed"}})');
    expect(sent.fail).toBe(5);
    expect(sent.stall).toBe(1);
    // The hanging request was abandoned: neither a timeout nor an error of the target.
    expect(metrics.requests).toMatchObject({ total: 5, errors: 5, byClass: { http_500: 5 } });
    // Stopped as soon as the condition held, not after the 20 s the other thread's request would hang
    // nor at the end of the 10 s phase: 3 s leaves room for a busy machine.
    expect(elapsedMs).toBeLessThan(3000);
  });

  test('error rate over a window, judged only once the window holds minRequests', async () => {
    const { metrics } = await runPhase('rate');
    const reason = /^error rate [\d.]+% over the last 5 s, above 30% \((\d+) of (\d+) requests failed; http_500: .*model crashed/.exec(
      metrics.stopped?.reason ?? '',
    );
    expect(reason).not.toBeNull();
    const [failed, judged] = [Number(reason![1]), Number(reason![2])];
    expect(judged).toBeGreaterThanOrEqual(40);
    expect(failed / judged).toBeGreaterThan(0.3);
    // Every other request failed: not one condition on consecutive failures held, the window did, at 40 requests.
    expect(metrics.requests.total).toBeGreaterThanOrEqual(40);
    expect(metrics.requests.total).toBeLessThan(50);
  });

  test('the time limit stops a phase that would run on (counted from its start, warm-up included)', async () => {
    const { elapsedMs, metrics } = await runPhase('limited');
    expect(metrics.stopped?.reason).toBe('stopped at its time limit (1 s)');
    expect(metrics.requests.ok).toBeGreaterThan(10);
    expect(metrics.requests.errors).toBe(0);
    // 1 s limit; the rest is thread hand-off and closing, under a second even on a busy machine.
    expect(elapsedMs).toBeLessThan(2500);
  });

  test("a sharded phase: one shard's own condition stops the other shard too, and names the shard", async () => {
    const { results, metrics } = await runPhase('sibling');
    expect(results).toHaveLength(2);
    expect(metrics.stopped?.reason).toMatch(
      /^5 consecutive failed requests \(http_500: .*model crashed.*\), on shard 1 of 2 \(.+-local\)$/,
    );
    // Both shards stopped (the healthy one at its next exchange, 250 ms), far before the phase's 10 s: 3 s leaves room for a busy machine.
    for (const result of results) expect(result.shards[0]!.durationMs).toBeLessThan(3000);
  });

  test('a sharded phase: the error rate is judged on both shards together', async () => {
    const { results, metrics } = await runPhase('phase-rate');
    const reason =
      /^error rate [\d.]+% over the last 5 s, above 30% \((\d+) of (\d+) requests failed; http_500: .*\), all 2 shards together$/.exec(
        metrics.stopped?.reason ?? '',
      );
    expect(metrics.stopped?.reason).toMatch(/all 2 shards together$/);
    expect(reason).not.toBeNull();
    expect(Number(reason![2])).toBeGreaterThanOrEqual(60);
    for (const result of results) expect(result.shards[0]!.durationMs).toBeLessThan(3000);
  });

  test("an interrupt through the executor's stop signal stops the phase: counts kept, the hanging request abandoned", async () => {
    const running = runPhase('interrupted');
    // Interrupt once requests are flowing (the 'ok' loop answers every 20 ms).
    while (sent.ok < 10) await new Promise((resolve) => setTimeout(resolve, 20));
    interrupt.abort('interrupted');
    const { elapsedMs, metrics } = await running;
    expect(metrics.stopped?.reason).toBe('interrupted');
    expect(metrics.requests.ok).toBeGreaterThanOrEqual(9);
    expect(metrics.requests.errors).toBe(0);
    expect(sent.stall).toBe(1);
    expect(elapsedMs).toBeLessThan(3000);
  });
});
