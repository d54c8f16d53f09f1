/**
 * OpenAI-compatible chat completions (vLLM, llama.cpp server, LM Studio, Ollama /v1, hosted APIs)
 * on an undici pool with keep-alive. Streaming reads SSE: time to first token is the first chunk
 * whose `delta.content` is not empty (a role-only first chunk does not count), token counts come
 * from the final `usage` chunk (`stream_options.include_usage`) and are estimated only without it.
 */
import { Pool } from 'undici';
import type { ResolvedTarget } from '../../shared/shard-task';
import { classifyError } from './classify-error';
import { estimateTokens, type ChatRequest, type LlmTarget, type RequestOutcome } from './llm-target';

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

class MalformedResponse extends Error {}

/** The legacy completions API gets the conversation as one prompt of "role: text" lines. */
export function conversationPrompt(messages: ChatRequest['messages']): string {
  return `${messages.map((message) => `${message.role}: ${message.content}`).join('\n')}\nassistant:`;
}

export function createOpenAiTarget(target: ResolvedTarget, connections: number): LlmTarget {
  const base = new URL(target.baseUrl);
  const legacy = target.endpoint === 'completions';
  const path = `${base.pathname.replace(/\/$/, '')}${legacy ? '/completions' : '/chat/completions'}`;
  const pool = new Pool(base.origin, { connections: Math.max(1, connections), keepAliveTimeout: 30_000, pipelining: 1 });
  // Read once here, in the thread that sends: the key never travels in tasks, results or logs.
  const apiKey = target.apiKeyEnv ? process.env[target.apiKeyEnv] : undefined;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: target.stream ? 'text/event-stream' : 'application/json' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;

  async function send(request: ChatRequest): Promise<RequestOutcome> {
    const body = JSON.stringify({
      model: request.model,
      ...(legacy ? { prompt: conversationPrompt(request.messages) } : { messages: request.messages }),
      max_tokens: request.maxTokens,
      stream: target.stream,
      ...(target.stream ? { stream_options: { include_usage: true } } : {}),
    });
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, target.requestTimeoutMs);
    const startMs = performance.now();
    try {
      const response = await pool.request({ path, method: 'POST', headers, body, signal: controller.signal });
      if (response.statusCode >= 400) {
        const text = await response.body.text().catch(() => '');
        return { ok: false, startMs, endMs: performance.now(), errorClass: `http_${response.statusCode}`, message: text.slice(0, 200) };
      }
      if (!target.stream) {
        const json = (await response.body.json().catch(() => {
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
      let buffered = '';
      let done = false;
      const decoder = new TextDecoder();
      for await (const piece of response.body) {
        buffered += decoder.decode(piece as Buffer, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') {
            done = true;
            continue;
          }
          let event: { choices?: Array<{ delta?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null }; text?: string }>; usage?: Usage | null };
          try {
            event = JSON.parse(data) as typeof event;
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
      }
      if (!done) throw new MalformedResponse('stream ended without [DONE]');
      return finish(startMs, firstContentMs, chunkTimes, content, usage, request, reasoning);
    } catch (error) {
      const endMs = performance.now();
      if (error instanceof MalformedResponse) return { ok: false, startMs, endMs, errorClass: 'malformed_response', message: error.message };
      return { ok: false, startMs, endMs, errorClass: classifyError(error, timedOut), message: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  function finish(startMs: number, firstContentMs: number | null, chunkTimes: number[], content: string, usage: Usage | undefined, request: ChatRequest, reasoning = ''): RequestOutcome {
    const fromServer = typeof usage?.completion_tokens === 'number';
    return {
      ok: true,
      startMs,
      firstContentMs,
      endMs: performance.now(),
      contentChunkTimesMs: chunkTimes,
      content,
      ...(reasoning ? { reasoning } : {}),
      outputTokens: fromServer ? (usage?.completion_tokens as number) : estimateTokens(content) + estimateTokens(reasoning),
      inputTokens: typeof usage?.prompt_tokens === 'number' ? usage.prompt_tokens : request.messages.reduce((sum, m) => sum + estimateTokens(m.content), 0),
      usageFromServer: fromServer,
    };
  }

  return { send, close: () => pool.close() };
}
