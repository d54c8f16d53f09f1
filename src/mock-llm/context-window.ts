/**
 * What the mock model "sees": one token per whitespace-separated word, and a context window that
 * keeps the system message and then the newest messages that fit, dropping the oldest (as Ollama
 * truncates). A conversation longer than the window therefore really forgets its first facts.
 */

export interface ChatMessage {
  role: string;
  content: string;
}

export function countTokens(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}

export function promptTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, message) => sum + countTokens(message.content), 0);
}

/** The messages that fit in `windowTokens`: the system messages first, then the newest others. */
export function retainedMessages(messages: readonly ChatMessage[], windowTokens: number): ChatMessage[] {
  const system = messages.filter((message) => message.role === 'system');
  let budget = windowTokens - promptTokens(system);
  const kept: ChatMessage[] = [];
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index] as ChatMessage;
    if (message.role === 'system') continue;
    const tokens = countTokens(message.content);
    if (tokens > budget) break;
    budget -= tokens;
    kept.unshift(message);
  }
  return [...system, ...kept];
}
