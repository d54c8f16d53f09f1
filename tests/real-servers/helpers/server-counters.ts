/**
 * llama-server's own token counters from `GET /metrics` (needs `--metrics`). There is no request
 * counter and no byte metric; these three are exact running totals of what it processed.
 */
export interface ServerCounters {
  /** `llamacpp:prompt_tokens_total`: prompt tokens evaluated, cached ones excluded. */
  promptTokens: number;
  /** `llamacpp:prompt_tokens_cached_total`: prompt tokens reused from a slot's cache. */
  cachedPromptTokens: number;
  /** `llamacpp:tokens_predicted_total`: tokens generated (the sum of `usage.completion_tokens`). */
  predictedTokens: number;
}

/** The value of one unlabelled sample in Prometheus text, or undefined when the page has none. */
export function prometheusValue(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    const [sampleName, value] = line.split(/\s+/);
    if (sampleName === name && value !== undefined) return Number(value);
  }
  return undefined;
}

/** `GET <url>/metrics` as text; `?model=` selects a router's model (and would load it). */
export async function metricsPage(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  if (response.status !== 200) throw new Error(`${url}/metrics answered ${response.status}: ${await response.text()}`);
  return response.text();
}

export async function serverCounters(url: string): Promise<ServerCounters> {
  const text = await metricsPage(url);
  const read = (name: string) => {
    const value = prometheusValue(text, name);
    if (value === undefined) throw new Error(`${url}/metrics has no ${name}`);
    return value;
  };
  return {
    promptTokens: read('llamacpp:prompt_tokens_total'),
    cachedPromptTokens: read('llamacpp:prompt_tokens_cached_total'),
    predictedTokens: read('llamacpp:tokens_predicted_total'),
  };
}

/** What the server processed between two readings. */
export function counterDelta(before: ServerCounters, after: ServerCounters): ServerCounters {
  return {
    promptTokens: after.promptTokens - before.promptTokens,
    cachedPromptTokens: after.cachedPromptTokens - before.cachedPromptTokens,
    predictedTokens: after.predictedTokens - before.predictedTokens,
  };
}
