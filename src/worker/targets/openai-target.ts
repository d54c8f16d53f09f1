/**
 * OpenAI-compatible chat completions (vLLM, llama.cpp server, LM Studio, Ollama /v1, hosted APIs)
 * on an undici pool with keep-alive. Streaming: time to first token is the first chunk whose
 * `delta.content` is not empty (a role-only first chunk does not count), token counts come from the
 * final `usage` chunk (`stream_options.include_usage`) and are estimated only without it.
 */
import { once } from '../../shared/close-all';
import type { OpenAiTarget } from '../../shared/resolved-target';
import type { BodyReader } from './body-reader';
import { HttpConnections } from './http-connections';
import { InFlightRequests } from './in-flight-requests';
import { jsonHeaders, MalformedResponse, postWithTimeout, type ExchangeConnections } from './http-exchange';
import { successOutcome, type ChatRequest, type LlmTarget, type RequestOutcome } from './llm-target';
import { cachedPromptTokens, OpenAiStream, type LlamaTimings, type Usage } from './openai-stream';

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
export function createOpenAiTarget(
  target: OpenAiTarget,
  connections: number,
  stopSignal?: AbortSignal,
  /** Connections other than an HTTP pool to `target.baseUrl` (the harness's warm-up answers in memory). */
  over?: ExchangeConnections & Pick<HttpConnections, 'stats' | 'close'>,
): LlmTarget {
  const base = new URL(target.baseUrl);
  const legacy = target.endpoint === 'completions';
  const path = `${base.pathname.replace(/\/$/, '')}${legacy ? '/completions' : '/chat/completions'}`;
  const http = over ?? new HttpConnections(base.origin, connections, target.maxResponseBytes);
  const inFlight = new InFlightRequests(stopSignal);
  const headers = jsonHeaders(target.apiKeyEnv, target.stream ? 'text/event-stream' : 'application/json');
  const streamFields = target.stream ? '"stream":true,"stream_options":{"include_usage":true}' : '"stream":false';

  function send(request: ChatRequest): Promise<RequestOutcome> {
    // Built as text around the conversation's serialized messages: the history is not serialized again each turn.
    const input = legacy
      ? `"prompt":${JSON.stringify(conversationPrompt(request.messages))}`
      : `"messages":${request.messagesJson ?? JSON.stringify(request.messages)}`;
    const body = `{"model":${JSON.stringify(request.model)},${input},"max_tokens":${JSON.stringify(request.maxTokens)},${streamFields}}`;
    const exchange = { path, headers, body, timeoutMs: target.requestTimeoutMs, maxResponseBytes: target.maxResponseBytes, inFlight };
    return postWithTimeout(http, exchange, (startMs) => (target.stream ? streamReader(request, startMs) : jsonReader(request, startMs)));
  }

  /** A streamed answer: parsed frame by frame as the pieces arrive. */
  function streamReader(request: ChatRequest, startMs: number): BodyReader {
    const stream = new OpenAiStream(legacy);
    return {
      data: (piece, arrivedMs) => stream.feed(piece, arrivedMs),
      end() {
        const streamed = stream.finish();
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
      },
    };
  }

  /** A whole JSON answer: its pieces kept as they come, parsed once at the end. */
  function jsonReader(request: ChatRequest, startMs: number): BodyReader {
    const pieces: Buffer[] = [];
    return {
      data: (piece) => void pieces.push(piece),
      end() {
        let json: Completion | null;
        try {
          json = JSON.parse((pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces)).toString('utf8')) as Completion | null;
        } catch {
          throw new MalformedResponse('response is not JSON');
        }
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
      },
    };
  }

  return { send, connections: () => http.stats(), close: once(() => http.close()) };
}
