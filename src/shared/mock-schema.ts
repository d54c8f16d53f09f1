/**
 * The built-in mock LLM's configuration in a plan (`target.mock`): a deterministic system under
 * test whose timing, memory, leaks and faults are set here.
 */
import { z } from 'zod';
import { byteSize, duration, fraction, PLAN_LIMITS, SHORTEST_INTERVAL } from './plan-units';

const mockModelSchema = z
  .strictObject({
    name: z.string().min(1).max(PLAN_LIMITS.modelNameChars).describe('Model name the mock serves, as clients send it in `model`.'),
    contextWindowTokens: z
      .number()
      .int()
      .min(16)
      .max(PLAN_LIMITS.contextWindowTokens)
      .default(4096)
      .describe('Context window in tokens (one token per whitespace-separated word). Older messages beyond it are forgotten.'),
    ttft: duration('Time to first token of a warm model.').prefault('40ms'),
    tokensPerSecond: z
      .number()
      // One token every 100 s at the slowest (a slower mock never answers within a request timeout); a million a second at most.
      .min(0.01)
      .max(1_000_000)
      .default(200)
      .describe('Output token rate after the first token.'),
    loadTime: duration('Time paid by the first request after the server switches to this model.').prefault('300ms'),
    memory: byteSize('Memory the model occupies while loaded (reported by /api/ps).').prefault('4GB'),
    reasoningTokens: z
      .number()
      .int()
      .min(0)
      .max(PLAN_LIMITS.tokens)
      .default(0)
      .describe('Reasoning tokens streamed (as `reasoning_content`) before the answer, as reasoning models do.'),
    leakPerLoad: byteSize('Memory the mock fails to give back each time this model is loaded (a leak to detect).').prefault('0B'),
    errorRate: fraction('Share of requests answered with HTTP 500, drawn from the seeded generator.').prefault(0),
    stallRate: fraction('Share of requests that stall for `stallTime` before the first token.').prefault(0),
    stallTime: duration('How long a stalled request waits before its first token.').prefault('2s'),
    onContextOverflow: z
      .enum(['truncate', 'reject'])
      .default('truncate')
      .describe(
        'What a prompt that does not fit the context window gets: `truncate` drops the oldest messages but the system ones, ' +
          "as Ollama does; `reject` answers HTTP 400 with `contextOverflowError`'s body (plain JSON, streaming or not) " +
          "and stops a generation at the window's end, as llama.cpp's llama-server, vLLM and OpenAI do.",
      ),
    contextOverflowError: z
      .enum(['llama.cpp', 'openai'])
      .default('llama.cpp')
      .describe(
        "Body of the 400 a rejected prompt gets: llama.cpp's `exceed_context_size_error` (with `n_prompt_tokens` and `n_ctx`), " +
          "or OpenAI's `invalid_request_error` with code `context_length_exceeded` (vLLM answers in that style too).",
      ),
    promptTokensPerSecond: z
      .number()
      // The slowest a prompt is read is a token per 100 s, as for tokensPerSecond; a billion a second is beyond any server.
      .min(0.01)
      .max(1_000_000_000)
      .optional()
      .describe(
        'Prompt processing rate: the prompt tokens not found in the prompt cache add `uncached / promptTokensPerSecond` ' +
          'to the time to first token, so a cached prompt is answered faster. Unset: reading a prompt takes no time beyond `ttft`.',
      ),
    promptCacheEntries: z
      .number()
      .int()
      .min(0)
      .max(PLAN_LIMITS.listItems)
      .default(0)
      .describe(
        'Prompts (each with its answer) the model keeps for reuse, the least recently used dropped first (llama.cpp keeps one ' +
          'per slot). A prompt that starts with the tokens of a kept one processes only the rest (at least its last token), and ' +
          'usage says how many were reused in `prompt_tokens_details.cached_tokens`. A reload of the model empties it. ' +
          '0: no cache and no `prompt_tokens_details`.',
      ),
    tokensPerChunk: z
      .number()
      .int()
      .min(1)
      .max(PLAN_LIMITS.tokens)
      .default(1)
      .describe(
        'Tokens per streamed chunk. A chunk goes out when its last token is generated, so the first content arrives ' +
          '`(tokensPerChunk - 1) / tokensPerSecond` after `ttft`.',
      ),
    nullFrameRate: fraction(
      'Share of streamed OpenAI answers with one `data: null` frame among their chunks, drawn from the seeded generator ' +
        '(a fault some servers and proxies send).',
    ).prefault(0),
  })
  .transform(({ ttft, loadTime, memory, leakPerLoad, stallTime, ...rest }) => ({
    ...rest,
    ttftMs: ttft,
    loadTimeMs: loadTime,
    memoryBytes: memory,
    leakPerLoadBytes: leakPerLoad,
    stallTimeMs: stallTime,
  }))
  .describe('One model served by the built-in mock LLM.');

export const mockServerSchema = z
  .strictObject({
    seed: z.number().int().default(1).describe("Seed of the mock's generator: same seed, same answers, same injected faults."),
    maxLoadedModels: z
      .number()
      .int()
      .min(1)
      .max(PLAN_LIMITS.listItems)
      .default(1)
      .describe('How many models stay resident; loading one more evicts the least recently used.'),
    models: z.array(mockModelSchema).min(1).max(PLAN_LIMITS.listItems).describe('Models the mock serves.'),
    keepAliveTimeout: duration('How long an idle connection stays open before the mock closes it (llama.cpp: 5s).', {
      min: SHORTEST_INTERVAL,
      max: { value: '1h', why: 'no client keeps an idle connection longer' },
    }).prefault('30s'),
    keepAliveMaxRequests: z
      .number()
      .int()
      .min(0)
      // A million responses on one connection is beyond any server's limit (llama.cpp: 100, nginx: 1000).
      .max(1_000_000)
      .default(0)
      .describe(
        'Responses per connection: the last one carries `Connection: close` and the mock closes the connection, and every ' +
          'response announces `Keep-Alive: timeout=..., max=...` (llama.cpp: 100). 0: no limit.',
      ),
    closeAfterStream: z
      .boolean()
      .default(false)
      .describe(
        "Close the connection right after each streamed answer's last byte, without a `Connection: close` header, as " +
          "llama.cpp's llama-server does although it announces keep-alive: a client that reuses the socket races the close.",
      ),
    closeAfterStreamDelay: duration(
      'How long after the last byte of a streamed answer `closeAfterStream` closes the connection. The mock stops reading ' +
        'it at once, so a request a pooled client writes on it meanwhile is never seen and gets a reset, as with llama.cpp ' +
        '(2-40 % of reused requests failed against it); 0ms sends the close with the last byte, which clients see in time.',
      { max: { value: '1s', why: 'a later close is an idle timeout' } },
    ).prefault('1ms'),
    closeOnError: z
      .boolean()
      .default(false)
      .describe('Answer errors (4xx, 5xx) with `Connection: close` and close the connection, as llama.cpp does.'),
    timings: z
      .boolean()
      .default(false)
      .describe(
        "Add llama.cpp's `timings` object (cache_n, prompt_n, prompt_ms, predicted_n, predicted_ms and their rates) to " +
          'OpenAI answers: beside `usage` in the usage chunk when `stream_options.include_usage` asks for it, else in the ' +
          'finish chunk, and at the top of answers that are not streamed.',
      ),
  })
  .transform(({ keepAliveTimeout, closeAfterStreamDelay, ...rest }) => ({
    ...rest,
    keepAliveTimeoutMs: keepAliveTimeout,
    closeAfterStreamDelayMs: closeAfterStreamDelay,
  }))
  .describe('Configuration of the built-in mock LLM server.');

export type MockServerConfig = z.output<typeof mockServerSchema>;
export type MockModelConfig = z.output<typeof mockModelSchema>;
