/** Chat messages as harness, targets and mock exchange them, and the word count used for tokens. */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * Whitespace-separated words: the mock's token unit, and the harness's estimate of tokens when a
 * server sends no `usage` (reports then say the counts were estimated).
 */
export function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}
