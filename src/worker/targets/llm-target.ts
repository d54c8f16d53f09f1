/**
 * The one interface every LLM target implements. A failed request is data, never an exception:
 * it comes back classified so the run can count it and go on.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  /** Which conversation this turn belongs to (a module target keeps one session per conversation). */
  conversationId?: string;
  model: string;
  messages: readonly ChatMessage[];
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
  /** Time the server reports it spent loading the model for this request (Ollama `load_duration`). */
  loadMs?: number;
}

export type ErrorClass = 'timeout' | 'connection_refused' | 'connection_reset' | 'malformed_response' | 'aborted' | 'other' | `http_${number}`;

export interface RequestFailure {
  ok: false;
  startMs: number;
  endMs: number;
  errorClass: ErrorClass;
  message: string;
}

export type RequestOutcome = RequestSuccess | RequestFailure;

export interface LlmTarget {
  send(request: ChatRequest): Promise<RequestOutcome>;
  /** A conversation ended: targets that hold per-conversation state release it. */
  endConversation?(conversationId: string): Promise<void>;
  close(): Promise<void>;
}

/** Words as a fallback token count, when the server gives no `usage`. */
export function estimateTokens(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
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
    outputTokens: fromServer ? (parts.serverOutputTokens as number) : estimateTokens(parts.content) + estimateTokens(parts.reasoning ?? ''),
    inputTokens: typeof parts.serverInputTokens === 'number' ? parts.serverInputTokens : parts.request.messages.reduce((sum, message) => sum + estimateTokens(message.content), 0),
    usageFromServer: fromServer,
    ...(parts.loadMs !== undefined ? { loadMs: parts.loadMs } : {}),
  };
}
