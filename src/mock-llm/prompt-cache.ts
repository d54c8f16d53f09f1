/**
 * One model's prompt cache, as llama.cpp keeps one per slot: a bounded LRU of token sequences (a
 * prompt followed by its answer). A new prompt reuses the longest prefix it shares with a kept
 * sequence, and only the rest is processed; like llama.cpp it always processes at least one token
 * (`need to evaluate at least 1 token`), so a repeated prompt of n tokens has n - 1 cached.
 */
export class PromptCache {
  /** Oldest first. */
  private readonly entries: string[][] = [];

  /** @param capacity sequences kept; 0 keeps none. */
  constructor(private readonly capacity: number) {}

  /** Prompt tokens of `tokens` found in the cache; the entry that served them becomes the most recent. */
  reuse(tokens: readonly string[]): number {
    let best = 0;
    let bestIndex = -1;
    for (const [index, entry] of this.entries.entries()) {
      const shared = commonPrefixLength(entry, tokens);
      if (shared > best) [best, bestIndex] = [shared, index];
    }
    if (bestIndex >= 0) this.entries.push(...this.entries.splice(bestIndex, 1));
    return Math.min(best, Math.max(0, tokens.length - 1));
  }

  /** Keeps `tokens` as the most recent entry; entries it extends are dropped, the oldest beyond capacity too. */
  remember(tokens: readonly string[]): void {
    if (this.capacity === 0 || tokens.length === 0) return;
    for (let index = this.entries.length - 1; index >= 0; index--) {
      const entry = this.entries[index] as string[];
      if (entry.length <= tokens.length && commonPrefixLength(entry, tokens) === entry.length) this.entries.splice(index, 1);
    }
    this.entries.push([...tokens]);
    while (this.entries.length > this.capacity) this.entries.shift();
  }

  /** Forgets everything (the model was unloaded). */
  clear(): void {
    this.entries.length = 0;
  }
}

function commonPrefixLength(a: readonly string[], b: readonly string[]): number {
  const limit = Math.min(a.length, b.length);
  let index = 0;
  while (index < limit && a[index] === b[index]) index++;
  return index;
}
