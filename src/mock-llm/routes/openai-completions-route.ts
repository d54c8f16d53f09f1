/**
 * POST /v1/completions, the legacy API: the conversation arrives as one prompt of "role: text"
 * lines. Streamed chunks carry `choices[0].text` (no role chunk); llama.cpp's `timings` ride on
 * the finish chunk, where llama.cpp puts them.
 */
import { messagesOfPrompt, parseChatRequest } from '../chat-request';
import { openStream, sseEvent, SSE_DONE, writePiece } from '../event-stream';
import { HttpError } from '../http-error';
import { readJsonBody, sendJson } from '../http-json';
import type { MockEngine } from '../mock-engine';
import { CREATED_S, type MockRoute } from './mock-route';

export function openAiCompletionsRoute(engine: MockEngine): MockRoute {
  let sequence = 0;
  return async (request, response, signal) => {
    const body = await readJsonBody(request);
    if (typeof body.prompt !== 'string') throw new HttpError(400, '`prompt` must be a string');
    const chat = parseChatRequest({ ...body, messages: messagesOfPrompt(body.prompt) }, false);
    const model = engine.model(chat.model);
    if (!model) throw new HttpError(404, `The model \`${chat.model}\` does not exist`, 'model_not_found');
    const generation = engine.prepare(chat, model);
    const id = `cmpl-mock${++sequence}`;
    const envelope = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
      id,
      object: 'text_completion',
      created: CREATED_S,
      model: model.name,
      choices,
      ...extra,
    });
    const { answer } = generation;
    if (!chat.stream) {
      const outcome = await engine.generate(generation, signal, { chunk: () => undefined });
      if (signal.aborted) return;
      const choice = { index: 0, text: answer.tokens.join(''), finish_reason: answer.finishReason };
      sendJson(
        response,
        200,
        envelope([choice], { usage: engine.usage(generation, outcome), ...engine.timingsField(generation, outcome) }),
      );
      return;
    }
    openStream(response, 'text/event-stream');
    const outcome = await engine.generate(generation, signal, {
      chunk: (text, reasoning) => {
        if (!reasoning) writePiece(response, sseEvent(envelope([{ index: 0, text, finish_reason: null }])));
      },
      nullFrame: () => writePiece(response, sseEvent(null)),
    });
    if (signal.aborted) return;
    const finish = { index: 0, text: '', finish_reason: answer.finishReason };
    writePiece(response, sseEvent(envelope([finish], engine.timingsField(generation, outcome))));
    if (chat.includeUsage) writePiece(response, sseEvent(envelope([], { usage: engine.usage(generation, outcome) })));
    response.end(SSE_DONE);
  };
}
