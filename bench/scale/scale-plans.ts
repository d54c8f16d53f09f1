/**
 * The plans `bench:scale` submits, and the mock's models. Every phase is split into as many shards
 * as there are workers, so each worker process runs one shard, with the same load per worker.
 */

/** Models of the built-in mock (served with `grym-perf mock-llm --plan`): a fast one for the exactness run, a slow one for held streams. */
const MOCK_MODELS = {
  fast: { name: 'fast', ttft: '5ms', tokensPerSecond: 2000, loadTime: '0ms' },
  slow: { name: 'slow', ttft: '2s', tokensPerSecond: 20, loadTime: '0ms' },
} as const;

/** The one-conversation stage the ramp of held streams starts from. */
const RAMP_START_MS = 100;

/** Output tokens of a held stream: 2 s to the first, then 19 more at 20 a second, about 3 s in all. */
export const STREAM_TOKENS = 20;

/** A plan file whose only use is its `target.mock` section, for `grym-perf mock-llm --plan`. */
export function mockServerPlan(): object {
  return {
    version: 1,
    name: 'scale-mock',
    target: {
      kind: 'openai',
      mock: { maxLoadedModels: 2, keepAliveTimeout: '60s', models: [MOCK_MODELS.fast, MOCK_MODELS.slow] },
    },
    phases: [{ name: 'unused', scenario: 'requests', models: ['fast'], load: { requests: 1 } }],
  };
}

function plan(name: string, target: object, phase: object): object {
  return { version: 1, name, seed: 7, target, phases: [phase] };
}

/**
 * Throughput: closed loop, short non-streamed answers from the lean target. The warm-up is sent
 * but not measured: a worker held to a quarter of a core needs seconds to bring its JIT to steady state.
 */
export function throughputPlan(options: { baseUrl: string; workers: number; concurrencyPerWorker: number; warmupS: number; durationS: number }): object {
  return plan(
    `scale-throughput-${options.workers}`,
    { kind: 'openai', baseUrl: options.baseUrl, stream: false, requestTimeout: '10s' },
    {
      name: 'throughput',
      scenario: 'requests',
      models: ['short'],
      load: { concurrency: options.concurrencyPerWorker * options.workers, warmup: `${options.warmupS}s`, duration: `${options.durationS}s` },
      conversation: { turns: 8, promptTokens: 0, maxTokens: 4 },
      shards: options.workers,
    },
  );
}

/**
 * Held streams: the mock's slow model (TTFT 2 s, 20 tokens/s). Conversations ramp up from one over
 * the warm-up so that their turns do not all start in the same millisecond, then stay at the count.
 * (A first stage starts at its own target: without the one-conversation stage before the ramp,
 * every stream started at once and all of them stayed in step, turn after turn: 500 requests sent
 * in the same 100 ms, TTFT p99 4.7 s against the mock's 2 s.)
 */
export function streamsPlan(options: { baseUrl: string; workers: number; streamsPerWorker: number; rampS: number; holdS: number }): object {
  const streams = options.streamsPerWorker * options.workers;
  return plan(
    `scale-streams-${options.workers}`,
    { kind: 'openai', baseUrl: options.baseUrl, stream: true, requestTimeout: '30s' },
    {
      name: 'streams',
      scenario: 'requests',
      models: [MOCK_MODELS.slow.name],
      load: {
        concurrency: streams,
        warmup: `${options.rampS * 1000 + RAMP_START_MS}ms`,
        stages: [
          { duration: `${RAMP_START_MS}ms`, concurrency: 1 },
          { duration: `${options.rampS}s`, concurrency: streams },
          { duration: `${options.holdS}s`, concurrency: streams },
        ],
      },
      conversation: { turns: 8, promptTokens: 16, maxTokens: STREAM_TOKENS },
      shards: options.workers,
    },
  );
}

/**
 * Exactness: a fixed number of streamed requests, all measured (no warm-up), so that the request
 * log holds every one of them and the mock's own counter must match the report's.
 */
export function exactnessPlan(options: { baseUrl: string; workers: number; requestsPerWorker: number }): object {
  return plan(
    `scale-exact-${options.workers}`,
    { kind: 'openai', baseUrl: options.baseUrl, stream: true, requestTimeout: '10s' },
    {
      name: 'exact',
      scenario: 'requests',
      models: [MOCK_MODELS.fast.name],
      load: { concurrency: 8 * options.workers, requests: options.requestsPerWorker * options.workers },
      conversation: { turns: 8, promptTokens: 8, maxTokens: 8 },
      shards: options.workers,
    },
  );
}
