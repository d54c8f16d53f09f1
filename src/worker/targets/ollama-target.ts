/**
 * Ollama's native chat API: `POST {baseUrl}/api/chat`, streaming NDJSON. Time to first token is the
 * first line with non-empty `message.content`; token counts are the final line's `eval_count` and
 * `prompt_eval_count`; its `load_duration` is the time the server spent loading the model, which
 * makes the cost of a model switch visible apart from generation. `keep_alive` controls residency.
 */
import { Pool } from 'undici';
import type { ResolvedTarget } from '../../shared/shard-task';
import { jsonHeaders, MalformedResponse, postWithTimeout, streamedLines } from './http-exchange';
import { successOutcome, type ChatRequest, type LlmTarget, type RequestOutcome } from './llm-target';

interface OllamaLine {
  message?: { content?: string };
  done?: boolean;
  error?: string;
  eval_count?: number;
  prompt_eval_count?: number;
  load_duration?: number;
}

export function createOllamaTarget(target: ResolvedTarget, connections: number): LlmTarget {
  const base = new URL(target.baseUrl);
  const path = `${base.pathname.replace(/\/$/, '')}/api/chat`;
  const pool = new Pool(base.origin, { connections: Math.max(1, connections), keepAliveTimeout: 30_000 });
  const headers = jsonHeaders(target.apiKeyEnv);

  function send(request: ChatRequest): Promise<RequestOutcome> {
    const body = JSON.stringify({
      model: request.model,
      messages: request.messages,
      stream: target.stream,
      options: { num_predict: request.maxTokens },
      ...(target.keepAliveMs !== undefined ? { keep_alive: `${Math.round(target.keepAliveMs / 1000)}s` } : {}),
    });
    return postWithTimeout(pool, { path, headers, body, timeoutMs: target.requestTimeoutMs }, async (responseBody, startMs) => {
      let content = '';
      let firstContentMs: number | null = null;
      const chunkTimes: number[] = [];
      let final: OllamaLine | undefined;
      for await (const line of streamedLines(responseBody)) {
        if (line.trim() === '') continue;
        let parsed: OllamaLine;
        try {
          parsed = JSON.parse(line) as OllamaLine;
        } catch {
          throw new MalformedResponse(`bad NDJSON line: ${line.slice(0, 80)}`);
        }
        if (parsed.error) throw new MalformedResponse(`error mid-stream: ${parsed.error}`);
        const piece = parsed.message?.content;
        if (typeof piece === 'string' && piece.length > 0) {
          if (target.stream) {
            const now = performance.now();
            firstContentMs ??= now;
            chunkTimes.push(now);
          }
          content += piece;
        }
        if (parsed.done) final = parsed;
      }
      if (!final) throw new MalformedResponse('response ended without a done line');
      const done: OllamaLine = final;
      return successOutcome({
        request,
        startMs,
        firstContentMs,
        contentChunkTimesMs: chunkTimes,
        content,
        serverOutputTokens: done.eval_count,
        serverInputTokens: done.prompt_eval_count,
        loadMs: typeof done.load_duration === 'number' ? done.load_duration / 1e6 : undefined,
      });
    });
  }

  return { send, close: () => pool.close() };
}
