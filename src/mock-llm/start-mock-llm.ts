/**
 * The built-in mock LLM: a deterministic system under test speaking the OpenAI chat completions API
 * (streaming and not) and the Ollama API (/api/chat, /api/ps, /api/tags). Timing follows the model
 * config exactly: a non-resident model pays `loadTime`, the first content token comes `ttft` after
 * that, token i at ttft + i / tokensPerSecond; chunks are scheduled from the start, so delays do
 * not drift. Errors and stalls are injected by a hash of the request, reproducibly.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { MockModelConfig, MockServerConfig } from '../shared/plan-schema';
import { composeAnswer, type Answer } from './compose-answer';
import { promptTokens, type ChatMessage } from './context-window';
import { ModelResidency } from './model-residency';
import { hash32 } from '../shared/seeded-random';

export interface MockStats {
  requests: number;
  /** Epoch ms of the first chat request, null before it (how long a harness took to start sending). */
  firstChatAtMs: number | null;
  errorsInjected: number;
  stallsInjected: number;
  /** Loads (switches to a model) per model. */
  loads: Record<string, number>;
}

export interface MockLlmServer {
  /** Origin, such as http://127.0.0.1:41234; the OpenAI base URL is `${url}/v1`. */
  url: string;
  port: number;
  stats(): MockStats;
  /** Stops listening and drops open connections; idempotent. */
  close(): Promise<void>;
}

interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  maxTokens: number;
  includeUsage: boolean;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly type = 'invalid_request_error') {
    super(message);
  }
}

const CREATED = 1_700_000_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof body !== 'object' || body === null) throw new Error('not an object');
    return body as Record<string, unknown>;
  } catch {
    throw new HttpError(400, 'request body must be a JSON object');
  }
}

function parseChat(body: Record<string, unknown>, ollama: boolean): ChatRequest {
  if (typeof body.model !== 'string') throw new HttpError(400, '`model` must be a string');
  if (!Array.isArray(body.messages) || body.messages.some((m) => typeof m?.content !== 'string' || typeof m?.role !== 'string')) {
    throw new HttpError(400, '`messages` must be a list of {role, content} objects');
  }
  const options = (body.options ?? {}) as Record<string, unknown>;
  const maxTokens = Number(ollama ? (options.num_predict ?? 32) : (body.max_tokens ?? body.max_completion_tokens ?? 32));
  const streamOptions = (body.stream_options ?? {}) as Record<string, unknown>;
  return {
    model: body.model,
    messages: body.messages as ChatMessage[],
    stream: ollama ? body.stream !== false : body.stream === true,
    maxTokens: Number.isFinite(maxTokens) && maxTokens > 0 ? Math.floor(maxTokens) : 32,
    includeUsage: streamOptions.include_usage === true,
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export async function startMockLlm(config: MockServerConfig, options: { port?: number; host?: string } = {}): Promise<MockLlmServer> {
  const models = new Map(config.models.map((model) => [model.name, model]));
  const residency = new ModelResidency(config.maxLoadedModels);
  const stats = { requests: 0, firstChatAtMs: null as number | null, errorsInjected: 0, stallsInjected: 0 };
  const sockets = new Set<Socket>();
  let sequence = 0;

  /**
   * Loads the model if needed, then plays the tokens on schedule through `emit`: first the model's
   * `reasoningTokens` (flagged as reasoning), then the answer.
   */
  async function generate(chat: ChatRequest, model: MockModelConfig, isOpen: () => boolean, emit: (token: string, reasoning: boolean) => void) {
    stats.firstChatAtMs ??= Date.now();
    const loadMs = await residency.acquire(model);
    const key = `${model.name}\u0000${JSON.stringify(chat.messages)}`;
    const stall = model.stallRate > 0 && hash32(config.seed ^ 0x5a11, key) / 2 ** 32 < model.stallRate;
    if (stall) stats.stallsInjected++;
    const answer = composeAnswer({ seed: config.seed, model: model.name, messages: chat.messages, windowTokens: model.contextWindowTokens, maxTokens: chat.maxTokens });
    const startMs = performance.now();
    const firstAtMs = model.ttft + (stall ? model.stallTime : 0);
    const tokens = [...Array.from({ length: model.reasoningTokens }, (_, index) => ({ text: `thought${index} `, reasoning: true })), ...answer.tokens.map((text) => ({ text, reasoning: false }))];
    for (const [index, token] of tokens.entries()) {
      await sleep(startMs + firstAtMs + (index * 1000) / model.tokensPerSecond - performance.now());
      if (!isOpen()) break;
      emit(token.text, token.reasoning);
    }
    return { answer, loadMs, totalMs: performance.now() - startMs + loadMs };
  }

  function injectedError(chat: ChatRequest, model: MockModelConfig): boolean {
    const failed = model.errorRate > 0 && hash32(config.seed ^ 0xe770, `${model.name}\u0000${JSON.stringify(chat.messages)}`) / 2 ** 32 < model.errorRate;
    if (failed) stats.errorsInjected++;
    return failed;
  }

  function usage(chat: ChatRequest, answer: Answer, model: MockModelConfig) {
    const prompt = promptTokens(chat.messages);
    const completion = answer.tokens.length + model.reasoningTokens;
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  }

  /** The legacy completions API: the conversation arrives as one prompt of "role: text" lines. */
  async function openAiCompletion(request: IncomingMessage, response: ServerResponse) {
    const body = await readJson(request);
    if (typeof body.prompt !== 'string') throw new HttpError(400, '`prompt` must be a string');
    const messages = body.prompt
      .split('\n')
      .map((line) => /^(system|user|assistant): (.*)$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null && match[2] !== '')
      .map((match) => ({ role: match[1] as string, content: match[2] as string }));
    const chat = parseChat({ ...body, messages }, false);
    const model = models.get(chat.model);
    if (!model) throw new HttpError(404, `The model \`${chat.model}\` does not exist`, 'model_not_found');
    if (injectedError(chat, model)) throw new HttpError(500, 'injected failure (mock errorRate)', 'server_error');
    const id = `cmpl-mock${++sequence}`;
    const open = () => !response.destroyed;
    const envelope = (choices: unknown[], extra: Record<string, unknown> = {}) => ({ id, object: 'text_completion', created: CREATED, model: model.name, choices, ...extra });
    if (!chat.stream) {
      const { answer } = await generate(chat, model, open, () => undefined);
      sendJson(response, 200, envelope([{ index: 0, text: answer.tokens.join(''), finish_reason: answer.finishReason }], { usage: usage(chat, answer, model) }));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const { answer } = await generate(chat, model, open, (token, reasoning) => {
      if (!reasoning) response.write(`data: ${JSON.stringify(envelope([{ index: 0, text: token, finish_reason: null }]))}\n\n`);
    });
    if (!open()) return;
    response.write(`data: ${JSON.stringify(envelope([{ index: 0, text: '', finish_reason: answer.finishReason }]))}\n\n`);
    if (chat.includeUsage) response.write(`data: ${JSON.stringify(envelope([], { usage: usage(chat, answer, model) }))}\n\n`);
    response.end('data: [DONE]\n\n');
  }

  async function openAiChat(request: IncomingMessage, response: ServerResponse) {
    const chat = parseChat(await readJson(request), false);
    const model = models.get(chat.model);
    if (!model) throw new HttpError(404, `The model \`${chat.model}\` does not exist`, 'model_not_found');
    if (injectedError(chat, model)) throw new HttpError(500, 'injected failure (mock errorRate)', 'server_error');
    const id = `chatcmpl-mock${++sequence}`;
    const open = () => !response.destroyed;
    if (!chat.stream) {
      const { answer } = await generate(chat, model, open, () => undefined);
      sendJson(response, 200, {
        id,
        object: 'chat.completion',
        created: CREATED,
        model: model.name,
        choices: [{ index: 0, message: { role: 'assistant', content: answer.tokens.join('') }, finish_reason: answer.finishReason }],
        usage: usage(chat, answer, model),
      });
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      response.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: CREATED, model: model.name, choices, ...extra })}\n\n`);
    // A role-only first chunk, as real servers send: clients must not count it as the first token.
    chunk([{ index: 0, delta: { role: 'assistant' }, finish_reason: null }]);
    const { answer } = await generate(chat, model, open, (token, reasoning) => chunk([{ index: 0, delta: reasoning ? { reasoning_content: token } : { content: token }, finish_reason: null }]));
    if (!open()) return;
    chunk([{ index: 0, delta: {}, finish_reason: answer.finishReason }]);
    if (chat.includeUsage) chunk([], { usage: usage(chat, answer, model) });
    response.end('data: [DONE]\n\n');
  }

  async function ollamaChat(request: IncomingMessage, response: ServerResponse) {
    const chat = parseChat(await readJson(request), true);
    const model = models.get(chat.model);
    if (!model) throw new HttpError(404, `model "${chat.model}" not found, try pulling it first`);
    if (injectedError(chat, model)) throw new HttpError(500, 'injected failure (mock errorRate)', 'server_error');
    const open = () => !response.destroyed;
    const line = (body: Record<string, unknown>) => ({ model: model.name, created_at: new Date().toISOString(), ...body });
    if (chat.stream) response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const { answer, loadMs, totalMs } = await generate(chat, model, open, (token, reasoning) => {
      if (chat.stream && !reasoning) response.write(`${JSON.stringify(line({ message: { role: 'assistant', content: token }, done: false }))}\n`);
    });
    if (!open()) return;
    const ns = (ms: number) => Math.round(ms * 1e6);
    const final = line({
      message: { role: 'assistant', content: chat.stream ? '' : answer.tokens.join('') },
      done: true,
      done_reason: answer.finishReason,
      total_duration: ns(totalMs),
      load_duration: ns(loadMs),
      prompt_eval_count: promptTokens(chat.messages),
      eval_count: answer.tokens.length,
      eval_duration: ns(totalMs - loadMs),
    });
    if (chat.stream) response.end(`${JSON.stringify(final)}\n`);
    else sendJson(response, 200, final);
  }

  const routes: Record<string, (request: IncomingMessage, response: ServerResponse) => Promise<void> | void> = {
    'POST /v1/chat/completions': openAiChat,
    'POST /v1/completions': openAiCompletion,
    'POST /api/chat': ollamaChat,
    'GET /v1/models': (_request, response) =>
      sendJson(response, 200, { object: 'list', data: config.models.map((model) => ({ id: model.name, object: 'model', created: CREATED, owned_by: 'grym-perf-mock' })) }),
    'GET /api/tags': (_request, response) => sendJson(response, 200, { models: config.models.map((model) => ({ name: model.name, model: model.name, size: model.memory })) }),
    'GET /api/ps': (_request, response) =>
      sendJson(response, 200, {
        models: residency.list().map((entry) => ({
          name: entry.name,
          model: entry.name,
          size: entry.sizeBytes,
          size_vram: 0,
          expires_at: new Date(entry.loadedAtMs + 5 * 60_000).toISOString(),
        })),
      }),
    'GET /metrics': (_request, response) => {
      // Prometheus text format, as vLLM and most servers expose it: the mock's simulated memory.
      const lines = ['# HELP process_resident_memory_bytes Memory of the loaded models.', '# TYPE process_resident_memory_bytes gauge'];
      lines.push(`process_resident_memory_bytes ${residency.list().reduce((sum, entry) => sum + entry.sizeBytes, 0)}`);
      lines.push('# TYPE mock_model_loaded_bytes gauge', ...residency.list().map((entry) => `mock_model_loaded_bytes{model="${entry.name}"} ${entry.sizeBytes}`));
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(`${lines.join('\n')}\n`);
    },
    'GET /health': (_request, response) => sendJson(response, 200, { status: 'ok' }),
    'GET /stats': (_request, response) => sendJson(response, 200, { ...stats, loads: Object.fromEntries(residency.loads) }),
  };

  const server = createServer((request, response) => {
    stats.requests++;
    const route = routes[`${request.method} ${(request.url ?? '/').split('?')[0]}`];
    const handle = route ? Promise.resolve(route(request, response)) : Promise.reject(new HttpError(404, `no route ${request.method} ${request.url}`));
    handle.catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const status = error instanceof HttpError ? error.status : 500;
      const type = error instanceof HttpError ? error.type : 'server_error';
      sendJson(response, status, { error: { message: (error as Error).message, type, code: status } });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : '127.0.0.1';
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stats: () => ({ ...stats, loads: Object.fromEntries(residency.loads) }),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
