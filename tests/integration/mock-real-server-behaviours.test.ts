/**
 * Mock contract tests: each behaviour the built-in mock copies from real servers (checked against
 * llama.cpp's llama-server de3ff81, see the real-server issue) is switched on in `target.mock` and
 * seen on the wire here, over real HTTP on loopback: the close after a streamed answer, the
 * context-overflow 400 and its bodies, prompt-cache speed-ups with `cached_tokens` and `timings`,
 * several tokens per chunk, `data: null` frames. Each is off by default (last test).
 */
import { connect, type Socket } from 'node:net';
import { Pool, request } from 'undici';
import { startMockLlm, type MockLlmServer } from '../../src/mock-llm';
import { mockServerSchema } from '../../src/shared/mock-schema';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** performance.now() when the last byte of the response arrived. */
  completeAtMs: number;
}

/**
 * One TCP connection speaking HTTP/1.1 by hand, so that the test sees what a pooled client sees:
 * which headers came, and whether and when the server closed the socket (its FIN is 'end').
 */
class RawConnection {
  private buffer = Buffer.alloc(0);
  private pending: { resolve(response: RawResponse): void; reject(error: Error): void } | undefined;
  private readonly socket: Socket;
  /** performance.now() when the server's FIN arrived. */
  readonly ended: Promise<number>;
  hasEnded = false;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.ended = new Promise((resolve) =>
      this.socket.once('end', () => {
        this.hasEnded = true;
        resolve(performance.now());
      }),
    );
    this.socket.on('data', (data: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      this.tryComplete();
    });
    this.socket.on('error', (error) => this.pending?.reject(error));
    this.socket.on('close', () => this.pending?.reject(new Error('connection closed before a full response')));
  }

  /** Sends one request and resolves with its whole response. */
  send(path: string, body?: Record<string, unknown>): Promise<RawResponse> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const head = body === undefined ? `GET ${path}` : `POST ${path}`;
    const promise = new Promise<RawResponse>((resolve, reject) => (this.pending = { resolve, reject }));
    this.socket.write(
      `${head} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
    return promise;
  }

  close(): void {
    this.socket.destroy();
  }

  private tryComplete(): void {
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0 || !this.pending) return;
    const [statusLine, ...lines] = this.buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
    const headers = Object.fromEntries(
      lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    const decoded = decodeBody(this.buffer.subarray(headEnd + 4), headers);
    if (!decoded) return;
    this.buffer = this.buffer.subarray(headEnd + 4 + decoded.consumed);
    const pending = this.pending;
    this.pending = undefined;
    pending.resolve({ status: Number(statusLine?.split(' ')[1]), headers, body: decoded.body, completeAtMs: performance.now() });
  }
}

/** A body by Content-Length or chunked encoding; undefined while incomplete. */
function decodeBody(data: Buffer, headers: Record<string, string>): { body: string; consumed: number } | undefined {
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    return data.length >= length ? { body: data.subarray(0, length).toString('utf8'), consumed: length } : undefined;
  }
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    if (size === 0) return { body: Buffer.concat(parts).toString('utf8'), consumed: lineEnd + 4 };
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

/** The JSON payloads of an SSE body, `[DONE]` left out (a `data: null` frame gives null). */
function sseData(body: string): unknown[] {
  return body
    .split('\n\n')
    .filter((event) => event.startsWith('data: ') && event !== 'data: [DONE]')
    .map((event) => JSON.parse(event.slice('data: '.length)) as unknown);
}

type Chunk = {
  choices: Array<{ delta?: Record<string, unknown>; text?: string; finish_reason: string | null }>;
  usage?: Record<string, unknown>;
  timings?: Record<string, number>;
};

const started: MockLlmServer[] = [];
async function mockWith(config: Record<string, unknown>): Promise<MockLlmServer> {
  const mock = await startMockLlm(mockServerSchema.parse(config));
  started.push(mock);
  return mock;
}
afterAll(() => Promise.all(started.map((mock) => mock.close())));

const words = (count: number, word = 'hello') => Array.from({ length: count }, () => word).join(' ');
const chatBody = (model: string, content: string, extra: Record<string, unknown> = {}) => ({
  model,
  max_tokens: 4,
  messages: [{ role: 'user', content }],
  ...extra,
});

/** The connection settings llama-server de3ff81 shows (keep-alive announced, closes after streams and errors). */
const LLAMA_CONNECTIONS = { keepAliveTimeout: '5s', keepAliveMaxRequests: 100, closeAfterStream: true, closeOnError: true };

describe('connections', () => {
  test('closeAfterStream: the socket is closed right after a streamed answer, though keep-alive was announced', async () => {
    const mock = await mockWith({ ...LLAMA_CONNECTIONS, models: [{ name: 'm', ttft: '1ms', tokensPerSecond: 5000, loadTime: '0ms' }] });
    const connection = new RawConnection(mock.port);
    const streamed = await connection.send('/v1/chat/completions', chatBody('m', 'hi', { stream: true }));
    expect(streamed.status).toBe(200);
    expect(streamed.headers['keep-alive']).toBe('timeout=5, max=100');
    expect(streamed.headers.connection).not.toBe('close');
    expect(streamed.headers['transfer-encoding']).toBe('chunked');
    const endedAtMs = await connection.ended;
    // The idle timeout is 5 s: a FIN within 1 s of the last chunk is the close after the stream (llama.cpp: same ms).
    expect(endedAtMs - streamed.completeAtMs).toBeLessThan(1000);
    expect(mock.stats().connectionsClosedByServer).toBe(1);
    connection.close();

    // Answers that are not streamed keep the connection, as llama.cpp's do.
    const kept = new RawConnection(mock.port);
    for (const content of ['a', 'b', 'c']) expect((await kept.send('/v1/chat/completions', chatBody('m', content))).status).toBe(200);
    expect((await kept.send('/health')).status).toBe(200);
    expect(kept.hasEnded).toBe(false);
    expect(mock.stats().connectionsClosedByServer).toBe(1);
    kept.close();
  });

  test('closeAfterStream: a pooled client that reuses sockets at once loses the race on some requests the mock never read', async () => {
    const mock = await mockWith({ ...LLAMA_CONNECTIONS, models: [{ name: 'm', ttft: '1ms', tokensPerSecond: 5000, loadTime: '0ms' }] });
    // The harness's pool settings: keep-alive, one request at a time per connection.
    const pool = new Pool(mock.url, { connections: 4, pipelining: 1, keepAliveTimeout: 30_000 });
    let answered = 0;
    const failures: string[] = [];
    // Rounds of 200 until the race is lost once (5 at most): on a machine loaded by other suites the
    // client's next write can come after the close for a whole round (seen once: 0 of 200).
    for (let round = 0; round < 5 && failures.length === 0; round++) {
      await Promise.all(
        Array.from({ length: 4 }, async (_, loop) => {
          for (let index = 0; index < 50; index++) {
            try {
              const body = JSON.stringify(chatBody('m', `round ${round} loop ${loop} request ${index}`, { stream: true }));
              await (await pool.request({ path: '/v1/chat/completions', method: 'POST', body })).body.text();
              answered++;
            } catch (error) {
              failures.push(`${(error as { code?: string }).code}`);
            }
          }
        }),
      );
    }
    await pool.close();
    // In one process the client writes its next request within microseconds of the last chunk, well inside the 1 ms
    // before the close (llama.cpp: 2-40 % of requests failed so); the mock measured 37-40 % over 400 requests.
    expect(failures.length).toBeGreaterThan(0);
    // "other side closed" when the FIN is read first (what the issue saw), a reset when the RST overtakes it.
    expect(failures.filter((code) => code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET')).toEqual([]);
    // Every failed request is one the mock never read: it saw and closed after only the answered ones.
    expect(mock.stats()).toMatchObject({ requests: answered, generations: answered, connectionsClosedByServer: answered });
  });

  test('closeOnError and keepAliveMaxRequests: errors and the last allowed response say Connection: close and close', async () => {
    const mock = await mockWith({
      ...LLAMA_CONNECTIONS,
      keepAliveMaxRequests: 3,
      models: [{ name: 'm', ttft: '1ms', tokensPerSecond: 5000, loadTime: '0ms' }],
    });
    const failing = new RawConnection(mock.port);
    const missing = await failing.send('/v1/chat/completions', chatBody('nope', 'hi'));
    expect(missing.status).toBe(404);
    expect(missing.headers.connection).toBe('close');
    await failing.ended;

    const limited = new RawConnection(mock.port);
    const statuses: string[] = [];
    for (let index = 0; index < 3; index++) {
      const response = await limited.send('/v1/chat/completions', chatBody('m', `q${index}`));
      statuses.push(`${response.status} ${response.headers['keep-alive']} ${response.headers.connection}`);
    }
    expect(statuses).toEqual(['200 timeout=5, max=3 keep-alive', '200 timeout=5, max=3 keep-alive', '200 timeout=5, max=3 close']);
    await limited.ended;
    expect(mock.stats().connectionsClosedByServer).toBe(2);
  });
});

describe('context overflow', () => {
  let mock: MockLlmServer;
  beforeAll(async () => {
    mock = await mockWith({
      ...LLAMA_CONNECTIONS,
      models: [
        { name: 'llama', contextWindowTokens: 256, onContextOverflow: 'reject', ttft: '1ms', tokensPerSecond: 5000, loadTime: '0ms' },
        {
          name: 'openai',
          contextWindowTokens: 256,
          onContextOverflow: 'reject',
          contextOverflowError: 'openai',
          ttft: '1ms',
          tokensPerSecond: 5000,
          loadTime: '0ms',
        },
        { name: 'ollama', contextWindowTokens: 256, ttft: '1ms', tokensPerSecond: 5000, loadTime: '0ms' },
      ],
    });
  });

  test("reject: llama.cpp's 400 body, plain JSON even when streaming, with Connection: close", async () => {
    // 600 words are 600 mock tokens (llama.cpp said 628 for "hello world" x 300 with its template).
    const expected =
      '{"error":{"code":400,"message":"request (600 tokens) exceeds the available context size (256 tokens), try increasing it",' +
      '"type":"exceed_context_size_error","n_prompt_tokens":600,"n_ctx":256}}';
    for (const stream of [false, true]) {
      const connection = new RawConnection(mock.port);
      const response = await connection.send('/v1/chat/completions', chatBody('llama', words(300, 'hello world'), { stream }));
      expect({ status: response.status, type: response.headers['content-type'], connection: response.headers.connection }).toEqual({
        status: 400,
        type: 'application/json',
        connection: 'close',
      });
      expect(response.body).toBe(expected);
      await connection.ended;
    }
    const completion = new RawConnection(mock.port);
    const legacy = await completion.send('/v1/completions', { model: 'llama', prompt: `user: ${words(300)}`, stream: true });
    expect(JSON.parse(legacy.body)).toMatchObject({ error: { type: 'exceed_context_size_error', n_prompt_tokens: 300, n_ctx: 256 } });
    completion.close();
    expect(mock.stats().contextOverflowsRejected).toBe(3);
  });

  test("reject with OpenAI's body; a prompt that fits stops generating at the window's end; truncate answers", async () => {
    const rejected = await request(`${mock.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify(chatBody('openai', words(256))),
    });
    expect(rejected.statusCode).toBe(400);
    expect(await rejected.body.json()).toEqual({
      error: {
        message:
          "This model's maximum context length is 256 tokens. However, your messages resulted in 256 tokens. " +
          'Please reduce the length of the messages.',
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    });
    // 250 prompt tokens leave 6 of the 256: llama.cpp answers 200 and stops at the window's end with "length".
    const fits = await request(`${mock.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify(chatBody('llama', words(250), { max_tokens: 50 })),
    });
    const answer = (await fits.body.json()) as { choices: Array<{ finish_reason: string }>; usage: { completion_tokens: number } };
    expect(fits.statusCode).toBe(200);
    expect(answer.choices[0]?.finish_reason).toBe('length');
    expect(answer.usage.completion_tokens).toBe(6);
    const truncated = await request(`${mock.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify(chatBody('ollama', words(600))),
    });
    expect(truncated.statusCode).toBe(200);
    await truncated.body.dump();
  });
});

/** A streamed chat request; TTFT is the arrival of the first chunk with content (the role chunk has none). */
async function timedStream(mock: MockLlmServer, body: Record<string, unknown>): Promise<{ ttftMs: number; chunks: Chunk[] }> {
  const startedMs = performance.now();
  const response = await request(`${mock.url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  let text = '';
  let ttftMs = Number.NaN;
  for await (const part of response.body) {
    text += (part as Buffer).toString('utf8');
    if (Number.isNaN(ttftMs) && text.includes('"delta":{"content"')) ttftMs = performance.now() - startedMs;
  }
  return { ttftMs, chunks: sseData(text) as Chunk[] };
}

test('prompt cache: cached_tokens and timings.cache_n grow on a repeated prefix, and the time to first token drops by cached / rate', async () => {
  const mock = await mockWith({
    timings: true,
    maxLoadedModels: 1,
    models: [
      { name: 'cached', ttft: '20ms', tokensPerSecond: 1000, promptTokensPerSecond: 500, promptCacheEntries: 4, loadTime: '0ms' },
      { name: 'other', ttft: '1ms', loadTime: '0ms' },
    ],
  });
  const system = { role: 'system', content: words(50, 'rule') };
  const first = [system, { role: 'user', content: words(150, 'question') }];
  const cold = await timedStream(mock, { model: 'cached', max_tokens: 4, messages: first });
  const warm = await timedStream(mock, { model: 'cached', max_tokens: 4, messages: first });
  const reply = cold.chunks.flatMap((chunk) =>
    typeof chunk.choices[0]?.delta?.content === 'string' ? [chunk.choices[0].delta.content] : [],
  );
  const second = [...first, { role: 'assistant', content: reply.join('') }, { role: 'user', content: words(10, 'more') }];
  const next = await timedStream(mock, { model: 'cached', max_tokens: 4, messages: second });

  const usageOf = (run: { chunks: Chunk[] }) => run.chunks.at(-1) as Chunk;
  expect(usageOf(cold).usage).toMatchObject({ prompt_tokens: 200, prompt_tokens_details: { cached_tokens: 0 } });
  // As llama.cpp: a repeated prompt re-reads its last token.
  expect(usageOf(warm).usage).toMatchObject({ prompt_tokens: 200, prompt_tokens_details: { cached_tokens: 199 } });
  // The next turn reuses the first turn's prompt and answer: only the new user message is read.
  expect(usageOf(next).usage).toMatchObject({ prompt_tokens: 214, prompt_tokens_details: { cached_tokens: 204 } });
  expect([cold, warm, next].map((run) => [usageOf(run).timings?.cache_n, usageOf(run).timings?.prompt_n])).toEqual([
    [0, 200],
    [199, 1],
    [204, 10],
  ]);
  // prompt_ms is the mock's own schedule: ttft + uncached tokens / 500 per second.
  expect(usageOf(cold).timings?.prompt_ms).toBeCloseTo(20 + 400, 3);
  expect(usageOf(warm).timings?.prompt_ms).toBeCloseTo(20 + 2, 3);
  expect(usageOf(cold).timings).toEqual(expect.objectContaining({ predicted_n: 4, predicted_per_token_ms: expect.any(Number) }));
  // Timers never fire early, so the cold TTFT is at least its schedule; the warm one saves 398 ms of it.
  // A busy 2-core machine may delay the warm answer: a quarter of the saving (~100 ms) is left for that.
  expect(cold.ttftMs).toBeGreaterThanOrEqual(419);
  expect(cold.ttftMs - warm.ttftMs).toBeGreaterThan(0.75 * 398);
  expect(mock.stats()).toMatchObject({ promptTokensCached: 403, promptTokensProcessed: 211 });

  // A reload is a new process: its cache is empty.
  await timedStream(mock, { model: 'other', max_tokens: 1, messages: first });
  const reloaded = await timedStream(mock, { model: 'cached', max_tokens: 4, messages: first });
  expect(usageOf(reloaded).usage).toMatchObject({ prompt_tokens_details: { cached_tokens: 0 } });
});

test('timings ride where llama.cpp puts them: the usage chunk, else the finish chunk, else the top of a whole answer', async () => {
  const mock = await mockWith({ timings: true, models: [{ name: 'm', ttft: '1ms', tokensPerSecond: 5000, loadTime: '0ms' }] });
  const post = async (path: string, body: Record<string, unknown>) =>
    (await request(`${mock.url}${path}`, { method: 'POST', body: JSON.stringify(body) })).body.text();
  const withUsage = sseData(
    await post('/v1/chat/completions', chatBody('m', 'a', { stream: true, stream_options: { include_usage: true } })),
  );
  const withoutUsage = sseData(await post('/v1/chat/completions', chatBody('m', 'a', { stream: true }))) as Chunk[];
  const whole = JSON.parse(await post('/v1/chat/completions', chatBody('m', 'a'))) as Chunk;
  const legacy = sseData(await post('/v1/completions', { model: 'm', prompt: 'user: a', max_tokens: 4, stream: true })) as Chunk[];
  expect((withUsage as Chunk[]).map((chunk) => chunk.timings !== undefined)).toEqual([false, false, false, false, false, false, true]);
  expect(withoutUsage.map((chunk) => chunk.timings !== undefined)).toEqual([false, false, false, false, false, true]);
  expect(whole.timings).toMatchObject({ cache_n: 0, prompt_n: 1, predicted_n: 4 });
  expect(legacy.at(-1)).toMatchObject({ choices: [{ text: '', finish_reason: 'length' }], timings: { prompt_n: 1, predicted_n: 4 } });
});

test('tokensPerChunk: several tokens per chunk after the role-only chunk, each chunk sent when its last token is due', async () => {
  const mock = await mockWith({
    models: [{ name: 'batched', ttft: '10ms', tokensPerSecond: 20, tokensPerChunk: 3, loadTime: '0ms' }],
  });
  const { ttftMs, chunks } = await timedStream(mock, chatBody('batched', 'tell me', { max_tokens: 7 }));
  expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant' });
  const contents = chunks.flatMap((chunk) =>
    chunk.choices[0]?.delta?.content === undefined ? [] : [String(chunk.choices[0].delta.content)],
  );
  expect(contents.map((content) => content.trim().split(' ').length)).toEqual([3, 3, 1]);
  const whole = await request(`${mock.url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify(chatBody('batched', 'tell me', { max_tokens: 7 })),
  });
  expect(((await whole.body.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe(
    contents.join(''),
  );
  // The first chunk holds tokens 0-2: due at ttft + 2 / 20 per second = 110 ms (timers never fire early).
  expect(ttftMs).toBeGreaterThanOrEqual(109);
  const legacy = await request(`${mock.url}/v1/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: 'batched', prompt: 'user: tell me', max_tokens: 7, stream: true }),
  });
  const texts = (sseData(await legacy.body.text()) as Chunk[]).map((chunk) => chunk.choices[0]?.text).filter(Boolean);
  expect(texts).toEqual(contents);
});

test('nullFrameRate: data: null frames in about that share of streamed answers, the same ones for the same seed', async () => {
  const config = (seed: number) => ({
    seed,
    models: [{ name: 'm', ttft: '0ms', tokensPerSecond: 100_000, loadTime: '0ms', nullFrameRate: '25%' }],
  });
  const [mock, again, reseeded] = await Promise.all([mockWith(config(3)), mockWith(config(3)), mockWith(config(4))]);
  const REQUESTS = 200;
  const withNull = async (server: MockLlmServer, path: string) => {
    const hits: number[] = [];
    const one = async (index: number) => {
      const body =
        path === '/v1/completions'
          ? { model: 'm', prompt: `user: request ${index}`, max_tokens: 3, stream: true }
          : chatBody('m', `request ${index}`, { max_tokens: 3, stream: true });
      const data = sseData(await (await request(`${server.url}${path}`, { method: 'POST', body: JSON.stringify(body) })).body.text());
      const nulls = data.filter((frame) => frame === null).length;
      if (nulls > 0) {
        // One frame, among the content chunks: after chat's role chunk, before the finish chunk.
        expect(nulls).toBe(1);
        expect(data.indexOf(null)).toBeGreaterThanOrEqual(path === '/v1/completions' ? 0 : 1);
        expect(data.indexOf(null)).toBeLessThan(data.length - 1);
        hits.push(index);
      }
    };
    // Twenty at a time: the draw depends on the request only, not on the order, and this keeps the file fast.
    for (let from = 0; from < REQUESTS; from += 20) await Promise.all(Array.from({ length: 20 }, (_, offset) => one(from + offset)));
    return hits.sort((a, b) => a - b);
  };
  const first = await withNull(mock, '/v1/chat/completions');
  // 200 draws at 25 %: 50 expected, and 30..70 is beyond 3 standard deviations (6.1) either side.
  expect(first.length).toBeGreaterThanOrEqual(30);
  expect(first.length).toBeLessThanOrEqual(70);
  expect(mock.stats().nullFramesInjected).toBe(first.length);
  expect(await withNull(again, '/v1/chat/completions')).toEqual(first);
  expect(await withNull(reseeded, '/v1/chat/completions')).not.toEqual(first);
  expect((await withNull(mock, '/v1/completions')).length).toBeGreaterThanOrEqual(30);
  // Answers that are not streamed have no frames to corrupt.
  const whole = await request(`${mock.url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify(chatBody('m', `request ${first[0]}`)),
  });
  expect(((await whole.body.json()) as { object: string }).object).toBe('chat.completion');
});

test('off by default: keep-alive after streams and errors, no cached_tokens, no timings, no null frames, truncation', async () => {
  const mock = await mockWith({ models: [{ name: 'm', contextWindowTokens: 16, ttft: '1ms', tokensPerSecond: 5000, loadTime: '0ms' }] });
  const connection = new RawConnection(mock.port);
  const streamed = await connection.send(
    '/v1/chat/completions',
    chatBody('m', 'hi', { stream: true, stream_options: { include_usage: true } }),
  );
  const last = sseData(streamed.body).at(-1) as Chunk;
  expect(last.usage).toEqual({ prompt_tokens: 1, completion_tokens: 4, total_tokens: 5 });
  expect(last.timings).toBeUndefined();
  expect(sseData(streamed.body)).not.toContain(null);
  expect((await connection.send('/v1/chat/completions', chatBody('nope', 'hi'))).status).toBe(404);
  expect((await connection.send('/v1/chat/completions', chatBody('m', words(40)))).status).toBe(200);
  expect((await connection.send('/health')).headers['keep-alive']).toBe('timeout=30');
  expect(connection.hasEnded).toBe(false);
  expect(mock.stats()).toMatchObject({ connections: 1, connectionsClosedByServer: 0, contextOverflowsRejected: 0, promptTokensCached: 0 });
  connection.close();
});
