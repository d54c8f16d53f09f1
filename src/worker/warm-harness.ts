/**
 * Warms the harness, not the target: before a worker thread measures anything, its request path
 * (request building, undici, the SSE parser, token counting, the recorder's histograms and windows)
 * runs against a loopback server inside the thread until V8 has compiled it. Without this, the
 * first measured second of a CPU-bound phase completed a fifth of what later seconds did, which
 * read as the target's instability and inflated the first requests' TTFT by the JIT's own time.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ShardTask } from '../shared/shard-task';
import { Recorder } from './recorder';
import { createOpenAiTarget } from './targets/openai-target';

/** Time the warm-up may take per thread: enough for V8 to optimise the hot functions (measured: see the bench). */
const WARM_MS = 250;
/** Requests in flight at once during the warm-up, as a busy phase would have. */
const WARM_CONCURRENCY = 8;
const WARM_TOKENS = 8;

/** An OpenAI-style stream: a role chunk, a few content chunks, usage, [DONE]. */
function streamBody(): string {
  const frame = (delta: object) => `data: ${JSON.stringify({ choices: [{ index: 0, delta }] })}\n\n`;
  const tokens = Array.from({ length: WARM_TOKENS }, (_, index) => frame({ content: ` w${index}` })).join('');
  const usage = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 12, completion_tokens: WARM_TOKENS } })}\n\n`;
  return `${frame({ role: 'assistant', content: '' })}${tokens}${usage}data: [DONE]\n\n`;
}

async function startLoopback(): Promise<Server> {
  const body = streamBody();
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function warmOnce(): Promise<void> {
  const server = await startLoopback();
  const { port } = server.address() as AddressInfo;
  const target = createOpenAiTarget(
    {
      kind: 'openai',
      endpoint: 'chat',
      baseUrl: `http://127.0.0.1:${port}/v1`,
      stream: true,
      requestTimeoutMs: 5000,
      maxResponseBytes: 1 << 20,
      memory: { source: 'none' },
    },
    WARM_CONCURRENCY,
  );
  const now = Date.now();
  const recorder = new Recorder({ measureFromEpochMs: now, measureUntilEpochMs: now + WARM_MS * 10, windowMs: 1000 });
  const untilMs = performance.now() + WARM_MS;
  let sent = 0;
  const loop = async () => {
    while (performance.now() < untilMs) {
      const messages = [{ role: 'user' as const, content: `warm-up request ${sent++}: tell me about the harness` }];
      recorder.started();
      recorder.record(await target.send({ model: 'warm-up', messages, maxTokens: WARM_TOKENS }), { model: 'warm-up', conversation: 'w' });
    }
  };
  try {
    await Promise.all(Array.from({ length: WARM_CONCURRENCY }, loop));
    recorder.finish();
  } finally {
    await target.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A phase of at most this many requests is over before its windows could tell a cold start from a steady one. */
const SMALL_PHASE_REQUESTS = 100;

/**
 * Whether a shard's phase needs the harness warmed before it: not when its own warm-up is at least
 * as long (its unmeasured requests warm the same path), nor when it is a handful of requests, for
 * which the warm-up would cost more time than the phase (a one-request run starts at once).
 */
function needsWarmUp(task: ShardTask): boolean {
  if (task.phase.load.warmupMs >= WARM_MS) return false;
  return task.requests === undefined || task.requests > SMALL_PHASE_REQUESTS;
}

let warmed: Promise<void> | undefined;

/**
 * Warms this thread once; later calls wait for the same warm-up. Given the shard about to run, only
 * when its phase needs it (see `needsWarmUp`). A failed warm-up is not retried nor fatal.
 */
export function warmHarness(task?: ShardTask): Promise<void> {
  if (task && !needsWarmUp(task)) return warmed ?? Promise.resolve();
  warmed ??= warmOnce().catch(() => undefined);
  return warmed;
}
