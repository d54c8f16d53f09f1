/**
 * Ollama's native chat API: `POST {baseUrl}/api/chat`, streaming NDJSON. Time to first token is the
 * first line with non-empty `message.content`; token counts are the final line's `eval_count` and
 * `prompt_eval_count`; its `load_duration` is the time the server spent loading the model, which
 * makes the cost of a model switch visible apart from generation. `keep_alive` controls residency.
 */
import { Pool } from 'undici';
import type { ResolvedTarget } from '../../shared/shard-task';
import { jsonHeaders, MalformedResponse, postWithTimeout, streamedLines } from './http-exchange';
import { estimateTokens, type ChatRequest, type LlmTarget, type RequestOutcome } from './llm-target';

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
      const fromServer = typeof final.eval_count === 'number';
      return {
        ok: true,
        startMs,
        firstContentMs,
        endMs: performance.now(),
        contentChunkTimesMs: chunkTimes,
        content,
        outputTokens: fromServer ? (final.eval_count as number) : estimateTokens(content),
        inputTokens: final.prompt_eval_count ?? request.messages.reduce((sum, m) => sum + estimateTokens(m.content), 0),
        usageFromServer: fromServer,
        ...(typeof final.load_duration === 'number' ? { loadMs: final.load_duration / 1e6 } : {}),
      };
    });
  }

  return { send, close: () => pool.close() };
}
