/**
 * POST /api/chat, Ollama's API: NDJSON lines while streaming (the default), then a `done` line
 * with Ollama's counts and durations in nanoseconds, `load_duration` included.
 */
import { parseChatRequest } from '../chat-request';
import { openStream, writePiece } from '../event-stream';
import { HttpError } from '../http-error';
import { readJsonBody, sendJson } from '../http-json';
import type { MockEngine } from '../mock-engine';
import type { MockRoute } from './mock-route';

const ns = (ms: number) => Math.round(ms * 1e6);

export function ollamaChatRoute(engine: MockEngine): MockRoute {
  return async (request, response, signal) => {
    const chat = parseChatRequest(await readJsonBody(request), true);
    const model = engine.model(chat.model);
    if (!model) throw new HttpError(404, `model "${chat.model}" not found, try pulling it first`);
    const generation = engine.prepare(chat, model);
    const { answer } = generation;
    const line = (body: Record<string, unknown>) => ({ model: model.name, created_at: new Date().toISOString(), ...body });
    if (chat.stream) openStream(response, 'application/x-ndjson');
    const outcome = await engine.generate(generation, signal, {
      chunk: (text, reasoning) => {
        if (chat.stream && !reasoning)
          writePiece(response, `${JSON.stringify(line({ message: { role: 'assistant', content: text }, done: false }))}\n`);
      },
    });
    if (signal.aborted) return;
    const final = line({
      message: { role: 'assistant', content: chat.stream ? '' : answer.tokens.join('') },
      done: true,
      done_reason: answer.finishReason,
      total_duration: ns(outcome.totalMs),
      load_duration: ns(outcome.loadMs),
      prompt_eval_count: generation.promptTokens,
      prompt_eval_duration: ns(outcome.promptMs),
      eval_count: answer.tokens.length,
      eval_duration: ns(outcome.totalMs - outcome.loadMs),
    });
    if (chat.stream) response.end(`${JSON.stringify(final)}\n`);
    else sendJson(response, 200, final);
  };
}
