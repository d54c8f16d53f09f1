/**
 * llama.cpp's per-request `timings` object (checked against llama-server de3ff81): prompt and
 * generation counts, times and rates, with `prompt_tokens = cache_n + prompt_n`.
 */

/** The `timings` object llama.cpp adds to an answer; times in ms with three decimals, as it prints them. */
export function llamaTimings(counts: {
  cachedTokens: number;
  promptTokens: number;
  promptMs: number;
  predictedTokens: number;
  predictedMs: number;
}) {
  const ms = (value: number) => Math.round(value * 1000) / 1000;
  const perToken = (spentMs: number, tokens: number) => (tokens > 0 ? ms(spentMs / tokens) : 0);
  const perSecond = (spentMs: number, tokens: number) => (spentMs > 0 ? ms((tokens * 1000) / spentMs) : 0);
  return {
    cache_n: counts.cachedTokens,
    prompt_n: counts.promptTokens,
    prompt_ms: ms(counts.promptMs),
    prompt_per_token_ms: perToken(counts.promptMs, counts.promptTokens),
    prompt_per_second: perSecond(counts.promptMs, counts.promptTokens),
    predicted_n: counts.predictedTokens,
    predicted_ms: ms(counts.predictedMs),
    predicted_per_token_ms: perToken(counts.predictedMs, counts.predictedTokens),
    predicted_per_second: perSecond(counts.predictedMs, counts.predictedTokens),
  };
}
