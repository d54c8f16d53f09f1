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
