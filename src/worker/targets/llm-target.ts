/**
 * The one interface every LLM target implements. A failed request is data, never an exception:
 * it comes back classified so the run can count it and go on.
 */
import { countWords, type ChatMessage } from '../../shared/chat';
import type { ConnectionCounts } from '../../shared/shard-result';

export interface ChatRequest {
  /** Which conversation this turn belongs to (a module target keeps one session per conversation). */
  conversationId?: string;
  model: string;
  messages: readonly ChatMessage[];
  /** `messages` already serialized as a JSON array, when the sender keeps them so (a conversation does). */
  messagesJson?: string;
  maxTokens: number;
}

/** Times are `performance.now()` milliseconds of the thread that sent the request. */
export interface RequestSuccess {
  ok: true;
  startMs: number;
  /** When the first chunk with content (answer or reasoning) arrived; null without streaming. */
  firstContentMs: number | null;
  endMs: number;
  /** Arrival times of content chunks (streaming), for inter-token latency. */
  contentChunkTimesMs: number[];
  /** The answer, without any reasoning the model streamed before it. */
  content: string;
  /** Reasoning streamed apart from the answer (`reasoning_content`), when the model gives any. */
  reasoning?: string;
  outputTokens: number;
  inputTokens: number;
  /** True when token counts came from the server's `usage`, false when estimated from words. */
  usageFromServer: boolean;
  /**
   * Input tokens the server served from its prompt cache, when it said (`usage.prompt_tokens_details.cached_tokens`,
   * llama.cpp `timings.cache_n`, Ollama: never).
   */
  cachedInputTokens?: number;
  /** Time the server reports it spent loading the model for this request (Ollama `load_duration`). */
  loadMs?: number;
}

/**
 * How a failed request is counted. `http_<status>` for every status >= 300 (redirects are not
 * followed); `response_too_large`: the body passed `target.maxResponseBytes` and was cut off;
 * `headers_too_large`: the response headers overflowed the client's limit; `dns_failure`: the
 * host name did not resolve; `aborted`: the harness itself gave up on the request (its phase was
 * stopped), which is never counted against the target.
 */
export type ErrorClass =
  | 'timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns_failure'
  | 'malformed_response'
  | 'response_too_large'
  | 'headers_too_large'
  | 'aborted'
  | 'other'
  | `http_${number}`;

export interface RequestFailure {
  ok: false;
  startMs: number;
  endMs: number;
  errorClass: ErrorClass;
  /** What went wrong, with the server's own text when it sent any (an error body, cut short). */
  message: string;
  /**
   * The request never reached the server: refused, unresolved, a connect timeout, or a connection
   * reset before any response byte. Consecutive ones stop a phase (`phase.abort.connectionFailures`).
   */
  connectionFailure?: boolean;
}

export type RequestOutcome = RequestSuccess | RequestFailure;

export interface LlmTarget {
  send(request: ChatRequest): Promise<RequestOutcome>;
  /** HTTP targets: connections opened and requests retried on a fresh one (connection churn). */
  connections?(): ConnectionCounts;
  /** A conversation ended: targets that hold per-conversation state release it. */
  endConversation?(conversationId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A successful outcome, ending now. Token counts come from the server when it gave them; otherwise
 * they are estimated from words and the outcome says so.
 */
export function successOutcome(parts: {
  request: ChatRequest;
  startMs: number;
  firstContentMs: number | null;
  contentChunkTimesMs: number[];
  content: string;
  reasoning?: string;
  /** What the server reported, when it did. */
  serverOutputTokens?: number | undefined;
  serverInputTokens?: number | undefined;
  serverCachedInputTokens?: number | undefined;
  loadMs?: number | undefined;
}): RequestSuccess {
  const fromServer = typeof parts.serverOutputTokens === 'number';
  return {
    ok: true,
    startMs: parts.startMs,
    firstContentMs: parts.firstContentMs,
    endMs: performance.now(),
    contentChunkTimesMs: parts.contentChunkTimesMs,
    content: parts.content,
    ...(parts.reasoning ? { reasoning: parts.reasoning } : {}),
    outputTokens: fromServer ? (parts.serverOutputTokens as number) : countWords(parts.content) + countWords(parts.reasoning ?? ''),
    inputTokens:
      typeof parts.serverInputTokens === 'number'
        ? parts.serverInputTokens
        : parts.request.messages.reduce((sum, message) => sum + countWords(message.content), 0),
    usageFromServer: fromServer,
    ...(parts.loadMs !== undefined ? { loadMs: parts.loadMs } : {}),
    ...(typeof parts.serverCachedInputTokens === 'number' ? { cachedInputTokens: parts.serverCachedInputTokens } : {}),
  };
}
