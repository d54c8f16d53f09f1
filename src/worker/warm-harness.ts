/**
 * Warms the harness, not the target: before a worker thread measures anything, the harness's own
 * request path (conversations and request bodies, the response handler, the JSON and SSE readers,
 * token counting, the recorder's histograms and windows) runs until V8 has compiled it, against
 * answers served from memory by a dispatcher that stands in for undici's connection pool.
 *
 * Not over sockets: the loop needs no server in the thread, costs no connections and file
 * descriptors, and leaves no socket behind. (A first version ran against a loopback HTTP server for
 * 250 ms. The phases after it showed 20-30 ms scavenges, which were traced to per-request churn in a
 * long-lived Set of the requests in flight, since replaced by array slots: see `InFlightRequests`.)
 *
 * Before it, and alone where a phase needs no warm-up, two requests over a real connection
 * (`touchRequestPath`): a thread's first request also compiles undici's client and its llhttp
 * parser (WebAssembly, compiled at the first connection), which the loop does not reach.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher as UndiciDispatcher } from 'undici';

// undici's dispatcher base alone, as `http-connections.ts` loads its pool: not its whole index.
const Dispatcher = require('undici/lib/dispatcher/dispatcher') as typeof UndiciDispatcher;
type Dispatcher = UndiciDispatcher;
import type { ShardTask } from '../shared/shard-task';
import { HARNESS_WARM_MS, needsHarnessWarmUp } from './needs-harness-warm-up';
import { Recorder } from './recorder';
import { createOpenAiTarget } from './targets/openai-target';

/** Requests in flight at once during the warm-up, as a busy phase would have. */
const WARM_CONCURRENCY = 8;
const WARM_TOKENS = 8;

const frame = (delta: object) => `data: ${JSON.stringify({ choices: [{ index: 0, delta }] })}\n\n`;

/** An OpenAI-style stream, frame by frame as a server sends them: a role chunk, content chunks, usage, [DONE]. */
const STREAM_PIECES = [
  frame({ role: 'assistant', content: '' }),
  ...Array.from({ length: WARM_TOKENS }, (_, index) => frame({ content: ` w${index}` })),
  `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 12, completion_tokens: WARM_TOKENS } })}\n\n`,
  'data: [DONE]\n\n',
].map((piece) => Buffer.from(piece));

/** The warm-up's own target (no plan's): its address is replaced, or never dialled (in memory). */
const WARM_TARGET = {
  kind: 'openai',
  endpoint: 'chat',
  baseUrl: 'http://127.0.0.1:9/v1',
  stream: false,
  requestTimeoutMs: 5000,
  maxResponseBytes: 1 << 20,
  memory: { source: 'none' },
} as const;

/** The same answer whole, for a request that does not stream. */
const JSON_PIECES = [
  Buffer.from(
    JSON.stringify({
      choices: [{ index: 0, message: { role: 'assistant', content: 'w0 w1 w2 w3 w4 w5 w6 w7' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: WARM_TOKENS },
    }),
  ),
];

/** Answers every request at once from memory, through the same handler callbacks undici's client calls. */
class InMemoryDispatcher extends Dispatcher {
  constructor(private readonly pieces: readonly Buffer[]) {
    super();
  }

  override dispatch(_options: UndiciDispatcher.DispatchOptions, handler: UndiciDispatcher.DispatchHandler): boolean {
    // A turn of the event loop later, as an answer from a socket would come.
    setImmediate(() => {
      handler.onConnect?.(() => undefined);
      handler.onHeaders?.(200, [], () => undefined, 'OK');
      for (const piece of this.pieces) handler.onData?.(piece);
      handler.onComplete?.([]);
    });
    return true;
  }
}

async function warmOnce(): Promise<void> {
  const targetOf = (stream: boolean) => {
    const pool = new InMemoryDispatcher(stream ? STREAM_PIECES : JSON_PIECES);
    const over = {
      pool,
      retryOnFreshConnection: <T>(send: (dispatcher: Dispatcher) => Promise<T>) => send(pool),
      stats: () => ({ opened: 0, retried: 0 }),
      close: async () => undefined,
    };
    return createOpenAiTarget({ ...WARM_TARGET, stream }, WARM_CONCURRENCY, undefined, over);
  };
  // Both readers: a phase may stream or not.
  const targets = [targetOf(true), targetOf(false)];
  const now = Date.now();
  const recorder = new Recorder({ measureFromEpochMs: now, measureUntilEpochMs: now + HARNESS_WARM_MS * 10, windowMs: 1000 });
  const untilMs = performance.now() + HARNESS_WARM_MS;
  let sent = 0;
  const system = { role: 'system' as const, content: 'You warm the harness.' };
  const loop = async (index: number) => {
    const target = targets[index % targets.length] as (typeof targets)[number];
    while (performance.now() < untilMs) {
      const messages = [system, { role: 'user' as const, content: `warm-up request ${sent++}: tell me about the harness` }];
      recorder.started();
      const outcome = await target.send({ model: 'warm-up', messages, messagesJson: JSON.stringify(messages), maxTokens: WARM_TOKENS });
      recorder.record(outcome, { model: 'warm-up', conversation: 'w' });
    }
  };
  try {
    await Promise.all(Array.from({ length: WARM_CONCURRENCY }, (_, index) => loop(index)));
    recorder.finish();
  } finally {
    await Promise.all(targets.map((target) => target.close()));
  }
}

/** Bounds each request of the touch: a thread whose loopback is down gives up, it does not wait. */
const TOUCH_TIMEOUT_MS = 2000;

function listenOnLoopback(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * One streamed and one whole answer through a real undici pool, from an HTTP server in this thread
 * on loopback. A fresh thread's first request to a local server took 28-93 ms here, its second
 * 5-15 ms: what the first pays is compiling (undici, its parser, grym-perf's readers), not the
 * target. No plan value is used: the server and the requests are this function's own.
 */
async function touchOnce(): Promise<void> {
  const server = createServer((request, response) => {
    const pieces: Buffer[] = [];
    request.on('data', (piece: Buffer) => pieces.push(piece));
    request.on('end', () => {
      const stream = Buffer.concat(pieces).includes('"stream":true');
      response.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      response.end(Buffer.concat(stream ? STREAM_PIECES : JSON_PIECES));
    });
  });
  try {
    const port = await listenOnLoopback(server);
    for (const stream of [true, false]) {
      const target = createOpenAiTarget(
        { ...WARM_TARGET, baseUrl: `http://127.0.0.1:${port}/v1`, stream, requestTimeoutMs: TOUCH_TIMEOUT_MS },
        1,
      );
      try {
        const messages = [{ role: 'user' as const, content: 'first touch of the request path' }];
        await target.send({ model: 'warm-up', messages, messagesJson: JSON.stringify(messages), maxTokens: WARM_TOKENS });
      } finally {
        await target.close();
      }
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

let touched: Promise<void> | undefined;
let warmed: Promise<void> | undefined;

/** Runs this thread's request path once over a real connection (once; later calls wait for it). Never fails. */
export function touchRequestPath(): Promise<void> {
  touched ??= touchOnce().catch(() => undefined);
  return touched;
}

/**
 * Warms this thread once; later calls wait for the same warm-up. Given the shard about to run, the
 * whole warm-up only when its phase needs it (see `needsHarnessWarmUp`), else the touch alone. A
 * failed warm-up is not retried nor fatal.
 */
export function warmHarness(task?: ShardTask): Promise<void> {
  if (task && !needsHarnessWarmUp(task)) return warmed ?? touchRequestPath();
  warmed ??= touchRequestPath().then(() => warmOnce().catch(() => undefined));
  return warmed;
}
