/** What the mock counts, served at GET /stats and by `MockLlmServer.stats()`: tests assert on it. */

export interface MockStats {
  /** Every HTTP request, /stats and /api/ps included. */
  requests: number;
  /** Generation requests (chat and completions, OpenAI and Ollama) that reached a model. */
  generations: number;
  /** Epoch ms of the first chat request, null before it (how long a harness took to start sending). */
  firstChatAtMs: number | null;
  errorsInjected: number;
  stallsInjected: number;
  /** Streamed answers that carried a `data: null` frame (`nullFrameRate`). */
  nullFramesInjected: number;
  /** Prompts answered with a 400 because they did not fit the window (`onContextOverflow: reject`). */
  contextOverflowsRejected: number;
  /** Prompt tokens processed, cached ones excluded (llama.cpp's `prompt_tokens_total`). */
  promptTokensProcessed: number;
  /** Prompt tokens served from the prompt cache (llama.cpp's `prompt_tokens_cached_total`). */
  promptTokensCached: number;
  /** TCP connections accepted. */
  connections: number;
  /**
   * Connections the mock closed on purpose: after a streamed answer (`closeAfterStream`), after an
   * error (`closeOnError`), at `keepAliveMaxRequests`. Idle timeouts and closes the client asked for are not counted.
   */
  connectionsClosedByServer: number;
  /** Loads (switches to a model) per model. */
  loads: Record<string, number>;
}

/** Zeroed counters. */
export function createMockStats(): MockStats {
  return {
    requests: 0,
    generations: 0,
    firstChatAtMs: null,
    errorsInjected: 0,
    stallsInjected: 0,
    nullFramesInjected: 0,
    contextOverflowsRejected: 0,
    promptTokensProcessed: 0,
    promptTokensCached: 0,
    connections: 0,
    connectionsClosedByServer: 0,
    loads: {},
  };
}
