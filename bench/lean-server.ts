/**
 * A dependency-free OpenAI-compatible server for the generator benchmarks (`npm run bench`), run
 * in its own process: `node dist/bench/lean-server.js MODE DELAY_MS TOKENS TOKEN_INTERVAL_MS`.
 * It does nothing but answer, so the generator, not the server, is what the bench measures (the
 * built-in mock spends about as much CPU per request as the generator does), and it keeps its own
 * server-side timing of every answer: the truth that a generator's latencies are compared with.
 *
 * - `json`: every POST gets one chat completion with `usage` after DELAY_MS (0: at once).
 * - `sse`: a role chunk at once, then TOKENS content chunks, the first after DELAY_MS and one every
 *   TOKEN_INTERVAL_MS after it (0: all in the same tick), then a usage chunk and `[DONE]`.
 *
 * Server time runs from the request's arrival (its head parsed) to the last byte written (e2e) and
 * to the first content chunk written (TTFT). `GET /stats` answers the answers counted and the
 * p50/p99 of both since the last `POST /reset`, and when the first POST came; prints
 * `listening http://127.0.0.1:PORT`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Server times kept between resets: far more than a bench case sends. */
const MAX_SAMPLES = 4_000_000;

export interface LeanServerStats {
  answers: number;
  /** Epoch ms of the first POST since the server started (launch to first request). */
  firstRequestAtMs: number | null;
  e2eMs: { p50: number; p99: number } | null;
  ttftMs: { p50: number; p99: number } | null;
}

/** Keeps server times in preallocated arrays, so that keeping them costs the server nothing to collect. */
class ServerTimes {
  private readonly values = new Float64Array(MAX_SAMPLES);
  private count = 0;

  add(ms: number): void {
    if (this.count < MAX_SAMPLES) this.values[this.count++] = ms;
  }

  reset(): void {
    this.count = 0;
  }

  quantiles(): { p50: number; p99: number } | null {
    if (this.count === 0) return null;
    const sorted = this.values.slice(0, this.count).sort();
    const at = (q: number) => sorted[Math.min(this.count - 1, Math.floor(q * this.count))] as number;
    return { p50: at(0.5), p99: at(0.99) };
  }
}

function main(): void {
  const [mode = 'json', delayArg = '0', tokensArg = '1', intervalArg = '0'] = process.argv.slice(2);
  const delayMs = Number(delayArg);
  const tokens = Number(tokensArg);
  const intervalMs = Number(intervalArg);
  const e2e = new ServerTimes();
  const ttft = new ServerTimes();
  let answers = 0;
  let firstRequestAtMs: number | null = null;

  const json = Buffer.from(
    JSON.stringify({
      id: 'lean',
      object: 'chat.completion',
      created: 0,
      model: 'lean',
      choices: [{ index: 0, message: { role: 'assistant', content: 'one two three four' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 8, completion_tokens: 4, total_tokens: 12 },
    }),
  );
  const jsonHeaders = { 'content-type': 'application/json', 'content-length': String(json.length) };
  const frame = (body: object) => `data: ${JSON.stringify({ id: 'lean', object: 'chat.completion.chunk', model: 'lean', ...body })}\n\n`;
  const roleFrame = frame({ choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] });
  const tokenFrames = Array.from({ length: tokens }, (_, index) =>
    frame({ choices: [{ index: 0, delta: { content: ` t${index}` }, finish_reason: null }] }),
  );
  const endFrames =
    frame({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
    frame({ choices: [], usage: { prompt_tokens: 8, completion_tokens: tokens, total_tokens: 8 + tokens } }) +
    'data: [DONE]\n\n';

  const answerJson = (response: ServerResponse, arrivedMs: number) => {
    response.writeHead(200, jsonHeaders);
    response.end(json);
    e2e.add(performance.now() - arrivedMs);
    answers++;
  };

  const answerStream = (response: ServerResponse, arrivedMs: number) => {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    response.write(roleFrame);
    let sent = 0;
    const next = () => {
      if (response.destroyed) return;
      if (sent === 0) ttft.add(performance.now() - arrivedMs);
      if (intervalMs === 0) {
        // Every token in one write: what a server batching its tokens sends.
        response.write(tokenFrames.join(''));
        sent = tokens;
      } else response.write(tokenFrames[sent++] as string);
      if (sent < tokens) {
        setTimeout(next, intervalMs);
        return;
      }
      response.end(endFrames);
      e2e.add(performance.now() - arrivedMs);
      answers++;
    };
    if (delayMs > 0) setTimeout(next, delayMs);
    else next();
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const arrivedMs = performance.now();
    if (request.method === 'GET' && request.url === '/stats') {
      const stats: LeanServerStats = { answers, firstRequestAtMs, e2eMs: e2e.quantiles(), ttftMs: ttft.quantiles() };
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(stats));
      return;
    }
    if (request.method === 'POST' && request.url === '/reset') {
      e2e.reset();
      ttft.reset();
      answers = 0;
      response.end();
      return;
    }
    firstRequestAtMs ??= Date.now();
    request.resume();
    request.on('end', () => {
      const answer = mode === 'sse' ? answerStream : answerJson;
      if (mode === 'json' && delayMs > 0) setTimeout(() => answer(response, arrivedMs), delayMs);
      else answer(response, arrivedMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  // Thousands of held streams: no per-socket request cap.
  server.maxRequestsPerSocket = 0;
  server.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`));
}

if (require.main === module) main();
