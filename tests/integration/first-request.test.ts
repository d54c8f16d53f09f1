/**
 * Warm the harness, not the target: a thread's first request must not carry the cost of compiling
 * the harness's own request path (undici's client, its llhttp parser, grym-perf's readers), which
 * a report would show as the target's latency. Measured here before the touch: a fresh thread's
 * first request to a local server took 12-93 ms and its second 2-15 ms; after it, 3-5 ms and 2
 * (from dist, on a busy machine).
 *
 * Each round runs two fresh threads against the same loopback server: one sends at once (cold),
 * one touches its request path first (`touchRequestPath`, as every pinged thread does). Both are
 * slowed alike by a busy machine, so the test compares them with each other, not with a number of
 * ms: the touched first requests must take under half what the cold ones take (medians of five
 * rounds; seen under a load average of 6: 14 against 50 ms). Without the touch both are cold and
 * the ratio was 0.8-1.2. A quiet suite (tests/quiet-suites.js): run alone, after the others.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

jest.setTimeout(60_000);

const ANSWER = JSON.stringify({
  choices: [{ index: 0, message: { role: 'assistant', content: 'a b c d' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 4 },
});

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** The e2e (ms) of a fresh thread's two requests. */
async function freshThread(touch: boolean): Promise<number[]> {
  // tsx's CommonJS hook, registered in the thread, loads the TypeScript.
  const script = join(__dirname, '..', 'helpers', 'first-request-thread.ts');
  const worker = new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(script)});`, {
    eval: true,
    workerData: { baseUrl, touch },
  });
  try {
    const reply = await new Promise<{ took?: number[]; error?: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (!reply.took) throw new Error(reply.error);
    return reply.took;
  } finally {
    await worker.terminate();
  }
}

/** Rounds of a cold and a touched thread: a stall in one round does not decide the medians. */
const ROUNDS = 5;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

test("a touched thread's first request is not slowed by compiling the harness", async () => {
  const cold: number[] = [];
  const touched: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    cold.push((await freshThread(false))[0] as number);
    touched.push((await freshThread(true))[0] as number);
  }
  const list = (values: number[]) => values.map((ms) => ms.toFixed(1)).join(', ');
  const figures = `first requests, cold: ${list(cold)} ms; touched: ${list(touched)} ms`;
  expect({ figures, touchedUnderHalf: median(touched) < median(cold) / 2 }).toEqual({ figures, touchedUnderHalf: true });
});
