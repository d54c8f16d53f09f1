/**
 * A generation request as the mock's engine takes it, read from an OpenAI (chat or completions)
 * or Ollama body: the model, the conversation, streaming, the token budget and whether usage is
 * asked for in the stream.
 */
import type { ChatMessage } from '../shared/chat';
import { HttpError } from './http-error';

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  maxTokens: number;
  /** OpenAI `stream_options.include_usage`: a usage chunk after the finish chunk. */
  includeUsage: boolean;
}

const ROLES = new Set(['system', 'user', 'assistant']);
/** What servers generate when the request names no budget. */
const DEFAULT_MAX_TOKENS = 32;

/** Reads a chat body; `ollama` selects Ollama's names (`options.num_predict`, streaming unless `stream: false`). */
export function parseChatRequest(body: Record<string, unknown>, ollama: boolean): ChatRequest {
  if (typeof body.model !== 'string') throw new HttpError(400, '`model` must be a string');
  if (!Array.isArray(body.messages) || body.messages.some((m) => typeof m?.content !== 'string' || !ROLES.has(m?.role))) {
    throw new HttpError(400, '`messages` must be a list of {role, content} objects with role system, user or assistant');
  }
  const options = (body.options ?? {}) as Record<string, unknown>;
  const maxTokens = Number(
    ollama ? (options.num_predict ?? DEFAULT_MAX_TOKENS) : (body.max_tokens ?? body.max_completion_tokens ?? DEFAULT_MAX_TOKENS),
  );
  const streamOptions = (body.stream_options ?? {}) as Record<string, unknown>;
  return {
    model: body.model,
    messages: body.messages as ChatMessage[],
    stream: ollama ? body.stream !== false : body.stream === true,
    maxTokens: Number.isFinite(maxTokens) && maxTokens > 0 ? Math.floor(maxTokens) : DEFAULT_MAX_TOKENS,
    includeUsage: streamOptions.include_usage === true,
  };
}

/** The legacy completions API's prompt, "role: text" lines, as messages (lines without a role are dropped). */
export function messagesOfPrompt(prompt: string): ChatMessage[] {
  return prompt
    .split('\n')
    .map((line) => /^(system|user|assistant): (.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null && match[2] !== '')
    .map((match): ChatMessage => ({ role: match[1] as ChatMessage['role'], content: match[2] as string }));
}
