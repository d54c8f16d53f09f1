/**
 * What the mock model "sees": one token per whitespace-separated word, and a context window that
 * keeps the system message and then the newest messages that fit, dropping the oldest (as Ollama
 * truncates). A conversation longer than the window therefore really forgets its first facts.
 */
import { countWords, type ChatMessage } from '../shared/chat';

export function promptTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, message) => sum + countWords(message.content), 0);
}

/**
 * The prompt as the token sequence a prompt cache compares: each word tagged with its message's
 * role, so the same words said by another role are other tokens. Its length is
 * {@link promptTokens}.
 */
export function promptTokenSequence(messages: readonly ChatMessage[]): string[] {
  return messages.flatMap((message) => {
    const trimmed = message.content.trim();
    return trimmed === '' ? [] : trimmed.split(/\s+/).map((word) => `${message.role}:${word}`);
  });
}

/** The messages that fit in `windowTokens`: the system messages first, then the newest others. */
export function retainedMessages(messages: readonly ChatMessage[], windowTokens: number): ChatMessage[] {
  const system = messages.filter((message) => message.role === 'system');
  let budget = windowTokens - promptTokens(system);
  const kept: ChatMessage[] = [];
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index] as ChatMessage;
    if (message.role === 'system') continue;
    const tokens = countWords(message.content);
    if (tokens > budget) break;
    budget -= tokens;
    kept.unshift(message);
  }
  return [...system, ...kept];
}
