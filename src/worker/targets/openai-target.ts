/**
 * OpenAI-compatible chat completions (vLLM, llama.cpp server, LM Studio, Ollama /v1, hosted APIs)
 * on an undici pool with keep-alive. Streaming reads SSE: time to first token is the first chunk
 * whose `delta.content` is not empty (a role-only first chunk does not count), token counts come
 * from the final `usage` chunk (`stream_options.include_usage`) and are estimated only without it.
 */
import { Pool } from 'undici';
import type { ResolvedTarget } from '../../shared/shard-task';
import { jsonHeaders, MalformedResponse, postWithTimeout, streamedLines } from './http-exchange';
import { successOutcome, type ChatRequest, type LlmTarget, type RequestOutcome } from './llm-target';

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

interface StreamEvent {
  choices?: Array<{ delta?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null }; text?: string }>;
  usage?: Usage | null;
}

/** The legacy completions API gets the conversation as one prompt of "role: text" lines. */
export function conversationPrompt(messages: ChatRequest['messages']): string {
  return `${messages.map((message) => `${message.role}: ${message.content}`).join('\n')}\nassistant:`;
}

export function createOpenAiTarget(target: ResolvedTarget, connections: number): LlmTarget {
  const base = new URL(target.baseUrl);
  const legacy = target.endpoint === 'completions';
  const path = `${base.pathname.replace(/\/$/, '')}${legacy ? '/completions' : '/chat/completions'}`;
  const pool = new Pool(base.origin, { connections: Math.max(1, connections), keepAliveTimeout: 30_000, pipelining: 1 });
  const headers = jsonHeaders(target.apiKeyEnv, target.stream ? 'text/event-stream' : 'application/json');

  function finish(startMs: number, firstContentMs: number | null, chunkTimes: number[], content: string, usage: Usage | undefined, request: ChatRequest, reasoning = ''): RequestOutcome {
    return successOutcome({
      request,
      startMs,
      firstContentMs,
      contentChunkTimesMs: chunkTimes,
      content,
      reasoning,
      serverOutputTokens: usage?.completion_tokens,
      serverInputTokens: usage?.prompt_tokens,
    });
  }

  function send(request: ChatRequest): Promise<RequestOutcome> {
    const body = JSON.stringify({
      model: request.model,
      ...(legacy ? { prompt: conversationPrompt(request.messages) } : { messages: request.messages }),
      max_tokens: request.maxTokens,
      stream: target.stream,
      ...(target.stream ? { stream_options: { include_usage: true } } : {}),
    });
    return postWithTimeout(pool, { path, headers, body, timeoutMs: target.requestTimeoutMs }, async (responseBody, startMs) => {
      if (!target.stream) {
        const json = (await responseBody.json().catch(() => {
          throw new MalformedResponse('response is not JSON');
        })) as { choices?: Array<{ message?: { content?: string }; text?: string }>; usage?: Usage };
        const content = legacy ? json.choices?.[0]?.text : json.choices?.[0]?.message?.content;
        if (typeof content !== 'string') throw new MalformedResponse(legacy ? 'no choices[0].text' : 'no choices[0].message.content');
        return finish(startMs, null, [], content, json.usage, request);
      }
      let content = '';
      let reasoning = '';
      let usage: Usage | undefined;
      let firstContentMs: number | null = null;
      const chunkTimes: number[] = [];
      let done = false;
      for await (const rawLine of streamedLines(responseBody)) {
        const line = rawLine.trim();
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        let event: StreamEvent;
        try {
          event = JSON.parse(data) as StreamEvent;
        } catch {
          throw new MalformedResponse(`bad SSE data: ${data.slice(0, 80)}`);
        }
        if (event.usage) usage = event.usage;
        const choice = event.choices?.[0];
        const answer = legacy ? choice?.text : choice?.delta?.content;
        // Reasoning models stream their thinking first: it is output (TTFT, inter-token gaps) but
        // kept apart from the answer, which alone is scored by context probes.
        const thought = choice?.delta?.reasoning_content ?? choice?.delta?.reasoning;
        for (const [piece, isAnswer] of [[thought, false], [answer, true]] as const) {
          if (typeof piece !== 'string' || piece.length === 0) continue;
          const now = performance.now();
          firstContentMs ??= now;
          chunkTimes.push(now);
          if (isAnswer) content += piece;
          else reasoning += piece;
        }
      }
      if (!done) throw new MalformedResponse('stream ended without [DONE]');
      return finish(startMs, firstContentMs, chunkTimes, content, usage, request, reasoning);
    });
  }

  return { send, close: () => pool.close() };
}
