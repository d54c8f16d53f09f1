/**
 * POST /v1/chat/completions, streaming (SSE) or not. A stream opens with a role-only chunk, as
 * real servers do (clients must not count it as the first token), then one chunk per
 * `tokensPerChunk` tokens, a finish chunk, a usage chunk when `stream_options.include_usage` asks
 * for it, and `[DONE]`. llama.cpp's `timings` ride on the usage chunk, else on the finish chunk.
 */
import { parseChatRequest } from '../chat-request';
import { openStream, sseEvent, SSE_DONE, writePiece } from '../event-stream';
import { HttpError } from '../http-error';
import { readJsonBody, sendJson } from '../http-json';
import type { MockEngine } from '../mock-engine';
import { CREATED_S, type MockRoute } from './mock-route';

export function openAiChatRoute(engine: MockEngine): MockRoute {
  let sequence = 0;
  return async (request, response, signal) => {
    const chat = parseChatRequest(await readJsonBody(request), false);
    const model = engine.model(chat.model);
    if (!model) throw new HttpError(404, `The model \`${chat.model}\` does not exist`, 'model_not_found');
    const generation = engine.prepare(chat, model);
    const id = `chatcmpl-mock${++sequence}`;
    const envelope = (object: string, body: Record<string, unknown>) => ({ id, object, created: CREATED_S, model: model.name, ...body });
    const { answer } = generation;
    if (!chat.stream) {
      const outcome = await engine.generate(generation, signal, { chunk: () => undefined });
      if (signal.aborted) return;
      sendJson(
        response,
        200,
        envelope('chat.completion', {
          choices: [{ index: 0, message: { role: 'assistant', content: answer.tokens.join('') }, finish_reason: answer.finishReason }],
          usage: engine.usage(generation, outcome),
          ...engine.timingsField(generation, outcome),
        }),
      );
      return;
    }
    openStream(response, 'text/event-stream');
    const chunk = (body: Record<string, unknown>) => writePiece(response, sseEvent(envelope('chat.completion.chunk', body)));
    chunk({ choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] });
    const outcome = await engine.generate(generation, signal, {
      chunk: (text, reasoning) =>
        chunk({ choices: [{ index: 0, delta: reasoning ? { reasoning_content: text } : { content: text }, finish_reason: null }] }),
      nullFrame: () => writePiece(response, sseEvent(null)),
    });
    if (signal.aborted) return;
    const timings = engine.timingsField(generation, outcome);
    chunk({ choices: [{ index: 0, delta: {}, finish_reason: answer.finishReason }], ...(chat.includeUsage ? {} : timings) });
    if (chat.includeUsage) chunk({ choices: [], usage: engine.usage(generation, outcome), ...timings });
    response.end(SSE_DONE);
  };
}
