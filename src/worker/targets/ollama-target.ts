/**
 * Ollama's native chat API: `POST {baseUrl}/api/chat`, streaming NDJSON. Time to first token is the
 * first line with non-empty `message.content`; token counts are the final line's `eval_count` and
 * `prompt_eval_count`; its `load_duration` is the time the server spent loading the model, which
 * makes the cost of a model switch visible apart from generation. `keep_alive` controls residency.
 */
import { once } from '../../shared/close-all';
import type { OllamaTarget } from '../../shared/resolved-target';
import { HttpConnections } from './http-connections';
import { InFlightRequests } from './in-flight-requests';
import { jsonHeaders, MalformedResponse, postWithTimeout } from './http-exchange';
import { LineSplitter } from './line-splitter';
import { successOutcome, type ChatRequest, type LlmTarget, type RequestOutcome } from './llm-target';

interface OllamaLine {
  message?: { content?: string };
  done?: boolean;
  error?: string;
  eval_count?: number;
  prompt_eval_count?: number;
  load_duration?: number;
}

/** Parses one NDJSON line: an object, or the response is malformed. */
function parseLine(line: string): OllamaLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new MalformedResponse(`bad NDJSON line: ${line.slice(0, 80)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new MalformedResponse(`NDJSON line is not a JSON object: ${line.slice(0, 80)}`);
  return parsed as OllamaLine;
}

/** `stopSignal`: aborted when the harness stops the phase; requests in flight are then abandoned. */
export function createOllamaTarget(target: OllamaTarget, connections: number, stopSignal?: AbortSignal): LlmTarget {
  const base = new URL(target.baseUrl);
  const path = `${base.pathname.replace(/\/$/, '')}/api/chat`;
  const http = new HttpConnections(base.origin, connections, target.maxResponseBytes);
  const inFlight = new InFlightRequests(stopSignal);
  const headers = jsonHeaders(target.apiKeyEnv);
  const keepAlive = target.keepAliveMs !== undefined ? { keep_alive: `${Math.round(target.keepAliveMs / 1000)}s` } : {};
  const fixedFields = (maxTokens: number) =>
    JSON.stringify({ stream: target.stream, options: { num_predict: maxTokens }, ...keepAlive }).slice(1, -1);

  function send(request: ChatRequest): Promise<RequestOutcome> {
    // Built as text around the conversation's serialized messages: the history is not serialized again each turn.
    const messages = request.messagesJson ?? JSON.stringify(request.messages);
    const body = `{"model":${JSON.stringify(request.model)},"messages":${messages},${fixedFields(request.maxTokens)}}`;
    const exchange = { path, headers, body, timeoutMs: target.requestTimeoutMs, maxResponseBytes: target.maxResponseBytes, inFlight };
    return postWithTimeout(http, exchange, (startMs) => {
      let content = '';
      let firstContentMs: number | null = null;
      const chunkTimes: number[] = [];
      let final: OllamaLine | undefined;
      let arrivedMs = 0;
      const lines = new LineSplitter((line) => {
        if (line.trim() === '') return;
        const parsed = parseLine(line);
        if (parsed.error) throw new MalformedResponse(`error mid-stream: ${parsed.error}`);
        const piece = parsed.message?.content;
        if (typeof piece === 'string' && piece.length > 0) {
          if (target.stream) {
            firstContentMs ??= arrivedMs;
            chunkTimes.push(arrivedMs);
          }
          content += piece;
        }
        if (parsed.done) final = parsed;
      });
      return {
        data(piece, pieceArrivedMs) {
          arrivedMs = pieceArrivedMs;
          lines.feed(piece);
        },
        end() {
          lines.end();
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
        },
      };
    });
  }

  return { send, connections: () => http.stats(), close: once(() => http.close()) };
}
