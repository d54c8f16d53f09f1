/**
 * The OpenAI-compatible target against a hand-written server over real HTTP, for what the mock does
 * not do: SSE split at awkward places, a delayed first content chunk after the role chunk, no
 * `usage`, connections reset, a stream without [DONE], frames that are not what the API defines,
 * redirects, oversized headers and bodies, error bodies whose text must reach the report, and
 * keep-alive connection reuse.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OpenAiTarget } from '../../src/shared/resolved-target';
import { createOllamaTarget } from '../../src/worker/targets/ollama-target';
import { createOpenAiTarget } from '../../src/worker/targets/openai-target';
import type { LlmTarget, RequestOutcome } from '../../src/worker/targets/llm-target';

const ROLE_TO_CONTENT_MS = 60;

const event = (body: object) => `data: ${JSON.stringify(body)}\n\n`;
const delta = (content: string) => event({ choices: [{ delta: { content } }] });

/** Writes pieces one by one, each after the previous one left (so the client reads them apart). */
async function writeApart(response: ServerResponse, pieces: Array<string | Buffer>) {
  for (const piece of pieces) {
    await new Promise<void>((resolve) => response.write(piece, () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** What the server does depends on the requested model. */
async function answer(request: IncomingMessage, response: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const { model } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string };
  switch (model) {
    case 'fragmented': {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      await writeApart(response, [event({ choices: [{ delta: { role: 'assistant', content: '' } }] })]);
      // The first content comes well after the role chunk: TTFT must not count the role chunk.
      await new Promise((resolve) => setTimeout(resolve, ROLE_TO_CONTENT_MS));
      // CRLF line ends, a comment line, and frames cut mid-line and inside a multi-byte character.
      const stream = `${delta('Grüße ').replace(/\n/g, '\r\n')}: keep-alive\n\n${delta('aus ')}${delta('Köln')}${event({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 3 } })}data: [DONE]\n\n`;
      const bytes = Buffer.from(stream, 'utf8');
      const umlaut = bytes.indexOf(Buffer.from('ü')) + 1;
      const cuts = [5, umlaut, umlaut + 7, bytes.length - 4];
      await writeApart(
        response,
        [0, ...cuts].map((from, index) => bytes.subarray(from, cuts[index] ?? bytes.length)),
      );
      response.end();
      return;
    }
    case 'no-usage':
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(`${delta('four ')}${delta('words in ')}${delta('all')}data: [DONE]\n\n`);
      return;
    case 'no-done':
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(delta('cut short'));
      return;
    case 'reset':
      request.socket.destroy();
      return;
    case 'reset-mid-stream':
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      await writeApart(response, [delta('partial ')]);
      request.socket.destroy();
      return;
    case 'rate-limited':
      response.writeHead(429, { 'content-type': 'application/json' }).end('{"error":{"message":"slow down"}}');
      return;
    case 'data-null':
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end('data: null\n\ndata: [DONE]\n\n');
      return;
    case 'number-frame':
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(`${delta('fine')}data: 42\n\ndata: [DONE]\n\n`);
      return;
    case 'no-choices-no-usage':
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(`${delta('fine')}${event({ id: 'chatcmpl-1', object: 'chat.completion.chunk' })}data: [DONE]\n\n`);
      return;
    case 'usage-only':
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(`${event({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 0 } })}data: [DONE]\n\n`);
      return;
    case 'empty-answer':
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(`${event({ choices: [{ delta: {}, finish_reason: 'length' }] })}data: [DONE]\n\n`);
      return;
    case 'redirect':
      response.writeHead(307, { location: '/elsewhere', 'content-type': 'text/plain' }).end('moved to /elsewhere');
      return;
    case 'huge-headers':
      // Past undici's 16 KiB limit on response headers.
      response.writeHead(200, { 'content-type': 'text/event-stream', 'x-padding': 'a'.repeat(20_000) });
      response.end('data: [DONE]\n\n');
      return;
    case 'context-exceeded':
      // llama.cpp's answer to a prompt over the context window: its message and type must reach the report.
      response.writeHead(400, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: {
            code: 400,
            message: 'the request exceeds the available context size, try increasing it',
            type: 'exceed_context_size_error',
          },
        }),
      );
      return;
    case 'not-found-page':
      response
        .writeHead(404, { 'content-type': 'text/html' })
        .end('<html>\n<body><h1>404 Not Found</h1>\n<p>no route /v1/chat/completions</p></body></html>');
      return;
    case 'empty-404':
      response.writeHead(404).end();
      return;
    case 'big':
      // 64 KiB of valid frames: over the 10 kB cap the oversized-body tests give the target.
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(`${delta('x'.repeat(1000)).repeat(64)}data: [DONE]\n\n`);
      return;
    case 'big-json':
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'x'.repeat(64_000) } }] }));
      return;
    case 'ndjson-null':
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.end('null\n');
      return;
    default:
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'plain answer here' } }] }));
  }
}

const server = createServer((request, response) => {
  answer(request, response).catch(() => request.socket.destroy());
});
let connections = 0;
server.on('connection', () => connections++);

let base: OpenAiTarget;
const targets: LlmTarget[] = [];

function target(overrides: Partial<OpenAiTarget> = {}, poolConnections = 1): LlmTarget {
  const created = createOpenAiTarget({ ...base, ...overrides }, poolConnections);
  targets.push(created);
  return created;
}

const send = (to: LlmTarget, model: string): Promise<RequestOutcome> =>
  to.send({ model, messages: [{ role: 'user', content: 'two words' }], maxTokens: 8 });

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = {
    kind: 'openai',
    endpoint: 'chat',
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    stream: true,
    requestTimeoutMs: 5000,
    maxResponseBytes: 16e6,
    memory: { source: 'none' },
  };
});

afterAll(async () => {
  await Promise.all(targets.map((created) => created.close()));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('OpenAI target, SSE edge cases', () => {
  test('SSE split across reads (mid-line, mid-character), CRLF and comments: content intact, TTFT at the first content, not the role chunk', async () => {
    const outcome = await send(target(), 'fragmented');
    if (!outcome.ok) throw new Error(`${outcome.errorClass}: ${outcome.message}`);
    expect(outcome.content).toBe('Grüße aus Köln');
    expect(outcome).toMatchObject({ outputTokens: 3, inputTokens: 9, usageFromServer: true });
    expect(outcome.contentChunkTimesMs).toHaveLength(3);
    expect(outcome.firstContentMs! - outcome.startMs).toBeGreaterThanOrEqual(ROLE_TO_CONTENT_MS - 1);
    expect(outcome.endMs).toBeGreaterThanOrEqual(outcome.contentChunkTimesMs.at(-1)!);
  });

  test('without `usage` the output tokens are estimated from words and marked so', async () => {
    const outcome = await send(target(), 'no-usage');
    expect(outcome).toMatchObject({ ok: true, content: 'four words in all', outputTokens: 4, inputTokens: 2, usageFromServer: false });
  });

  test('non-streaming answer without usage', async () => {
    const outcome = await send(target({ stream: false }), 'plain');
    expect(outcome).toMatchObject({
      ok: true,
      content: 'plain answer here',
      firstContentMs: null,
      outputTokens: 3,
      usageFromServer: false,
    });
  });

  test.each([
    ['no-done', 'malformed_response'],
    ['reset', 'connection_reset'],
    ['reset-mid-stream', 'connection_reset'],
    ['rate-limited', 'http_429'],
  ])('model %s: counted as %s, returned not thrown', async (model, errorClass) => {
    const outcome = await send(target(), model);
    expect(outcome).toMatchObject({ ok: false, errorClass });
    expect(outcome.endMs).toBeGreaterThanOrEqual(outcome.startMs);
  });

  test.each([
    ['data-null', /SSE frame is not a JSON object: null/],
    ['number-frame', /SSE frame is not a JSON object: 42/],
    ['no-choices-no-usage', /SSE frame carries neither choices nor usage: \{"id":"chatcmpl-1"/],
    ['usage-only', /stream ended without a frame carrying a choice/],
  ])('SSE %s: malformed_response, not `other` or a success', async (model, message) => {
    const outcome = await send(target(), model);
    expect(outcome).toMatchObject({ ok: false, errorClass: 'malformed_response' });
    expect(outcome.ok === false && outcome.message).toMatch(message);
  });

  test('an empty answer with a finish_reason is an answer', async () => {
    expect(await send(target(), 'empty-answer')).toMatchObject({ ok: true, content: '', outputTokens: 0 });
  });

  test.each([
    ['redirect', 'http_307', /^moved to \/elsewhere$/],
    ['huge-headers', 'headers_too_large', /header/i],
    ['context-exceeded', 'http_400', /the request exceeds the available context size.*exceed_context_size_error/],
    ['not-found-page', 'http_404', /^<html> <body><h1>404 Not Found<\/h1> <p>no route \/v1\/chat\/completions<\/p><\/body><\/html>$/],
    ['empty-404', 'http_404', /^HTTP 404 with an empty body$/],
  ])('model %s: counted as %s, with what the server said', async (model, errorClass, message) => {
    const outcome = await send(target(), model);
    expect(outcome).toMatchObject({ ok: false, errorClass });
    expect(outcome.ok === false && outcome.message).toMatch(message);
  });

  test.each([
    ['streamed', 'big', true],
    ['not streamed', 'big-json', false],
  ])('a %s body over maxResponseBytes is cut off there and counted as response_too_large', async (_how, model, stream) => {
    const outcome = await send(target({ stream, maxResponseBytes: 10_000 }), model);
    expect(outcome).toMatchObject({ ok: false, errorClass: 'response_too_large' });
    expect(outcome.ok === false && outcome.message).toBe('response body over 10000 bytes (target.maxResponseBytes): cut off there');
    // The same answers fit the default cap.
    expect(await send(target({ stream }), model)).toMatchObject({ ok: true });
  });

  test('requests that never reached the server are marked as connection failures; a reset after the headers is not', async () => {
    expect(await send(target(), 'reset')).toMatchObject({ ok: false, errorClass: 'connection_reset', connectionFailure: true });
    const midStream = await send(target(), 'reset-mid-stream');
    expect(midStream).toMatchObject({ ok: false, errorClass: 'connection_reset' });
    expect(midStream.ok === false && midStream.connectionFailure).toBeFalsy();
    expect(await send(target(), 'rate-limited')).not.toHaveProperty('connectionFailure');
  });

  test('an NDJSON line that is not an object (Ollama) is malformed, not `other`', async () => {
    const ollama = createOllamaTarget({ ...base, kind: 'ollama', baseUrl: base.baseUrl.replace(/\/v1$/, '') }, 1);
    targets.push(ollama);
    expect(await send(ollama, 'ndjson-null')).toMatchObject({
      ok: false,
      errorClass: 'malformed_response',
      message: 'NDJSON line is not a JSON object: null',
    });
  });

  test('keep-alive: sequential requests reuse connections; concurrent ones open at most the pool size', async () => {
    const pooled = target({ stream: false }, 3);
    const before = connections;
    for (let index = 0; index < 10; index++) expect((await send(pooled, 'plain')).ok).toBe(true);
    // undici may open a second connection for a request sent while the first socket is still
    // finishing its response; without keep-alive there would be 10.
    expect(connections - before).toBeLessThanOrEqual(2);
    const outcomes = await Promise.all(Array.from({ length: 9 }, () => send(pooled, 'plain')));
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(connections - before).toBeLessThanOrEqual(3);
  });
});
