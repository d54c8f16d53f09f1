/**
 * OpenAI-compatible chat completions (vLLM, llama.cpp server, LM Studio, Ollama /v1, hosted APIs)
 * on an undici pool with keep-alive. Streaming: time to first token is the first chunk whose
 * `delta.content` is not empty (a role-only first chunk does not count), token counts come from the
 * final `usage` chunk (`stream_options.include_usage`) and are estimated only without it.
 */
import { once } from '../../shared/close-all';
import type { OpenAiTarget } from '../../shared/resolved-target';
import { HttpConnections } from './http-connections';
import { InFlightRequests } from './in-flight-requests';
import { jsonHeaders, MalformedResponse, postWithTimeout } from './http-exchange';
import { successOutcome, type ChatRequest, type LlmTarget, type RequestOutcome } from './llm-target';
import { cachedPromptTokens, readOpenAiStream, type LlamaTimings, type Usage } from './openai-stream';

interface Completion {
  choices?: Array<{ message?: { content?: string }; text?: string }>;
  usage?: Usage;
  timings?: LlamaTimings;
}

/** The legacy completions API gets the conversation as one prompt of "role: text" lines. */
function conversationPrompt(messages: ChatRequest['messages']): string {
  return `${messages.map((message) => `${message.role}: ${message.content}`).join('\n')}\nassistant:`;
}

/** `stopSignal`: aborted when the harness stops the phase; requests in flight are then abandoned. */
export function createOpenAiTarget(target: OpenAiTarget, connections: number, stopSignal?: AbortSignal): LlmTarget {
  const base = new URL(target.baseUrl);
  const legacy = target.endpoint === 'completions';
  const path = `${base.pathname.replace(/\/$/, '')}${legacy ? '/completions' : '/chat/completions'}`;
  const http = new HttpConnections(base.origin, connections, target.maxResponseBytes);
  const inFlight = new InFlightRequests(stopSignal);
  const headers = jsonHeaders(target.apiKeyEnv, target.stream ? 'text/event-stream' : 'application/json');

  function send(request: ChatRequest): Promise<RequestOutcome> {
    const body = JSON.stringify({
      model: request.model,
      ...(legacy ? { prompt: conversationPrompt(request.messages) } : { messages: request.messages }),
      max_tokens: request.maxTokens,
      stream: target.stream,
      ...(target.stream ? { stream_options: { include_usage: true } } : {}),
    });
    const exchange = { path, headers, body, timeoutMs: target.requestTimeoutMs, maxResponseBytes: target.maxResponseBytes, inFlight };
    return postWithTimeout(http, exchange, async (responseBody, startMs) => {
      if (target.stream) {
        const streamed = await readOpenAiStream(responseBody, legacy);
        return successOutcome({
          request,
          startMs,
          firstContentMs: streamed.chunkTimesMs[0] ?? null,
          contentChunkTimesMs: streamed.chunkTimesMs,
          content: streamed.content,
          reasoning: streamed.reasoning,
          serverOutputTokens: streamed.usage?.completion_tokens,
          serverInputTokens: streamed.usage?.prompt_tokens,
          serverCachedInputTokens: cachedPromptTokens(streamed.usage, streamed.timings),
        });
      }
      const json = (await responseBody.json().catch((error: unknown) => {
        // A body cut off at maxResponseBytes (or a reset) is not a JSON problem: let it be classified.
        if (error instanceof SyntaxError) throw new MalformedResponse('response is not JSON');
        throw error;
      })) as Completion | null;
      if (typeof json !== 'object' || json === null) throw new MalformedResponse('response is not a JSON object');
      const choice = Array.isArray(json.choices) ? json.choices[0] : undefined;
      const content = legacy ? choice?.text : choice?.message?.content;
      if (typeof content !== 'string') throw new MalformedResponse(legacy ? 'no choices[0].text' : 'no choices[0].message.content');
      const usage = typeof json.usage === 'object' && json.usage !== null ? json.usage : undefined;
      return successOutcome({
        request,
        startMs,
        firstContentMs: null,
        contentChunkTimesMs: [],
        content,
        serverOutputTokens: usage?.completion_tokens,
        serverInputTokens: usage?.prompt_tokens,
        serverCachedInputTokens: cachedPromptTokens(usage, typeof json.timings === 'object' ? json.timings : undefined),
      });
    });
  }

  return { send, connections: () => http.stats(), close: once(() => http.close()) };
}
