/**
 * Ollama's native chat API: `POST {baseUrl}/api/chat`, streaming NDJSON. Time to first token is the
 * first line with non-empty `message.content`; token counts are the final line's `eval_count` and
 * `prompt_eval_count`; its `load_duration` is the time the server spent loading the model, which
 * makes the cost of a model switch visible apart from generation. `keep_alive` controls residency.
 */
import { Pool } from 'undici';
import type { ResolvedTarget } from '../../shared/shard-task';
import { classifyError } from './classify-error';
import { estimateTokens, type ChatRequest, type LlmTarget, type RequestOutcome } from './llm-target';

interface OllamaLine {
  message?: { content?: string };
  done?: boolean;
  error?: string;
  eval_count?: number;
  prompt_eval_count?: number;
  load_duration?: number;
}

class MalformedResponse extends Error {}

export function createOllamaTarget(target: ResolvedTarget, connections: number): LlmTarget {
  const base = new URL(target.baseUrl);
  const path = `${base.pathname.replace(/\/$/, '')}/api/chat`;
  const pool = new Pool(base.origin, { connections: Math.max(1, connections), keepAliveTimeout: 30_000 });
  const apiKey = target.apiKeyEnv ? process.env[target.apiKeyEnv] : undefined;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;

  async function send(request: ChatRequest): Promise<RequestOutcome> {
    const body = JSON.stringify({
      model: request.model,
      messages: request.messages,
      stream: target.stream,
      options: { num_predict: request.maxTokens },
      ...(target.keepAliveMs !== undefined ? { keep_alive: `${Math.round(target.keepAliveMs / 1000)}s` } : {}),
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
      let content = '';
      let firstContentMs: number | null = null;
      const chunkTimes: number[] = [];
      let final: OllamaLine | undefined;
      let buffered = '';
      const decoder = new TextDecoder();
      const take = (line: string) => {
        if (line.trim() === '') return;
        let parsed: OllamaLine;
        try {
          parsed = JSON.parse(line) as OllamaLine;
        } catch {
          throw new MalformedResponse(`bad NDJSON line: ${line.slice(0, 80)}`);
        }
        if (parsed.error) throw new MalformedResponse(`error mid-stream: ${parsed.error}`);
        const piece = parsed.message?.content;
        if (typeof piece === 'string' && piece.length > 0) {
          const now = performance.now();
          if (target.stream) {
            firstContentMs ??= now;
            chunkTimes.push(now);
          }
          content += piece;
        }
        if (parsed.done) final = parsed;
      };
      for await (const piece of response.body) {
        buffered += decoder.decode(piece as Buffer, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          take(buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
        }
      }
      take(buffered);
      const done = final as OllamaLine | undefined;
      if (!done) throw new MalformedResponse('response ended without a done line');
      const fromServer = typeof done.eval_count === 'number';
      return {
        ok: true,
        startMs,
        firstContentMs,
        endMs: performance.now(),
        contentChunkTimesMs: chunkTimes,
        content,
        outputTokens: fromServer ? (done.eval_count as number) : estimateTokens(content),
        inputTokens: done.prompt_eval_count ?? request.messages.reduce((sum, m) => sum + estimateTokens(m.content), 0),
        usageFromServer: fromServer,
        ...(typeof done.load_duration === 'number' ? { loadMs: done.load_duration / 1e6 } : {}),
      };
    } catch (error) {
      const endMs = performance.now();
      if (error instanceof MalformedResponse) return { ok: false, startMs, endMs, errorClass: 'malformed_response', message: error.message };
      return { ok: false, startMs, endMs, errorClass: classifyError(error, timedOut), message: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  return { send, close: () => pool.close() };
}
