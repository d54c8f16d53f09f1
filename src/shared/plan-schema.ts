/**
 * The test plan: the one schema for what a user writes (YAML or JSON). Every threshold is data here,
 * never a constant in code. `PlanInput` is what the user writes; `Plan` is the resolved value with
 * units parsed (milliseconds, bytes, fractions) and defaults filled in.
 */
import { z } from 'zod';
import { parseCriterion, type Criterion } from './criteria';
import { parseBytes, parseDurationMs, parseRatio } from './units';

/** A duration written with a unit ("250ms", "30s", "2m"), resolved to milliseconds. */
export function duration(description: string) {
  return z
    .string({ error: 'must be a duration with a unit, such as "500ms" or "30s"' })
    .describe(`${description} Written with a unit: "250ms", "30s", "2m".`)
    .transform((text, ctx) => {
      const ms = parseDurationMs(text);
      if (ms === undefined || ms < 0) {
        ctx.issues.push({ code: 'custom', input: text, message: `must be a duration with a unit such as "500ms" or "30s" (got "${text}")` });
        return z.NEVER;
      }
      return ms;
    });
}

/** A byte size with a unit ("100MB", "14GB", "512MiB"), resolved to bytes. */
export function byteSize(description: string) {
  return z
    .string({ error: 'must be a size with a unit, such as "100MB" or "14GB"' })
    .describe(`${description} Written with a unit: "100MB", "14GB", "512MiB".`)
    .transform((text, ctx) => {
      const bytes = parseBytes(text);
      if (bytes === undefined || bytes < 0) {
        ctx.issues.push({ code: 'custom', input: text, message: `must be a size with a unit such as "100MB" or "14GB" (got "${text}")` });
        return z.NEVER;
      }
      return bytes;
    });
}

/** A fraction written as a percentage ("1%") or a number from 0 to 1, resolved to 0..1. */
export function fraction(description: string) {
  return z
    .union([z.number().min(0).max(1), z.string()])
    .describe(`${description} A percentage such as "1%", or a number from 0 to 1.`)
    .transform((value, ctx) => {
      const ratio = typeof value === 'number' ? value : parseRatio(value);
      if (ratio === undefined || ratio < 0 || ratio > 1) {
        ctx.issues.push({ code: 'custom', input: value, message: `must be a percentage from "0%" to "100%" (got ${JSON.stringify(value)})` });
        return z.NEVER;
      }
      return ratio;
    });
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// ---------------------------------------------------------------------------------------------
// The built-in mock LLM: a deterministic system under test.

export const mockModelSchema = z
  .strictObject({
    name: z.string().min(1).describe('Model name the mock serves, as clients send it in `model`.'),
    contextWindowTokens: z
      .number()
      .int()
      .min(16)
      .default(4096)
      .describe('Context window in tokens (one token per whitespace-separated word). Older messages beyond it are forgotten.'),
    ttft: duration('Time to first token of a warm model.').prefault('40ms'),
    tokensPerSecond: z.number().positive().default(200).describe('Output token rate after the first token.'),
    loadTime: duration('Time paid by the first request after the server switches to this model.').prefault('300ms'),
    memory: byteSize('Memory the model occupies while loaded (reported by /api/ps).').prefault('4GB'),
    reasoningTokens: z.number().int().min(0).default(0).describe('Reasoning tokens streamed (as `reasoning_content`) before the answer, as reasoning models do.'),
    leakPerLoad: byteSize('Memory the mock fails to give back each time this model is loaded (a leak to detect).').prefault('0B'),
    errorRate: fraction('Share of requests answered with HTTP 500, drawn from the seeded generator.').prefault(0),
    stallRate: fraction('Share of requests that stall for `stallTime` before the first token.').prefault(0),
    stallTime: duration('How long a stalled request waits before its first token.').prefault('2s'),
  })
  .describe('One model served by the built-in mock LLM.');

export const mockServerSchema = z
  .strictObject({
    seed: z.number().int().default(1).describe('Seed of the mock\'s generator: same seed, same answers, same injected faults.'),
    maxLoadedModels: z.number().int().min(1).default(1).describe('How many models stay resident; loading one more evicts the least recently used.'),
    models: z.array(mockModelSchema).min(1).describe('Models the mock serves.'),
  })
  .describe('Configuration of the built-in mock LLM server.');

// ---------------------------------------------------------------------------------------------
// The target: the LLM endpoint under test.

export const targetMemorySchema = z
  .strictObject({
    source: z
      .enum(['none', 'ollama-ps', 'pid', 'prometheus'])
      .prefault('none')
      .describe('Where target memory comes from: Ollama\'s /api/ps (also served by the mock), the RSS of a local process and its children, a Prometheus metric, or nowhere.'),
    pid: z.number().int().positive().optional().describe('Process id of a local server, for source "pid".'),
    url: z.url().optional().describe('"ollama-ps": base URL of the Ollama API (default: the target\'s origin). "prometheus": the metrics URL, such as http://127.0.0.1:8000/metrics.'),
    metric: z
      .string()
      .regex(/^[a-zA-Z_:][\w:]*(\{.*\})?$/, 'must be a Prometheus metric name, optionally with labels: process_resident_memory_bytes{job="vllm"}')
      .default('process_resident_memory_bytes')
      .describe('"prometheus": the metric to read (samples matching it are summed), such as process_resident_memory_bytes or vllm:gpu_cache_usage_perc.'),
  })
  .superRefine((memory, ctx) => {
    if (memory.source === 'prometheus' && memory.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'is required when source is "prometheus": give the metrics URL, such as http://127.0.0.1:8000/metrics' });
    }
    if (memory.source === 'pid' && memory.pid === undefined) {
      ctx.addIssue({ code: 'custom', path: ['pid'], message: 'is required when source is "pid": give the process id of the local LLM server' });
    }
  });

export const targetSchema = z
  .strictObject({
    kind: z
      .enum(['openai', 'ollama', 'module'])
      .prefault('openai')
      .describe('API the target speaks. "openai": OpenAI-compatible chat completions (vLLM, llama.cpp, LM Studio, Ollama /v1, hosted APIs). "ollama": Ollama\'s native /api/chat, with its model load times. "module": your own integration code, loaded into the worker threads.'),
    module: z.string().min(1).optional().describe('kind "module": path of the JS module (relative to the plan file) exporting `createSession`; see the README.'),
    heapSnapshots: z.boolean().default(false).describe('kind "module": write V8 heap snapshots of a thread at phase start and end when its heap grows past memory.leakThreshold.'),
    endpoint: z
      .enum(['chat', 'completions'])
      .default('chat')
      .describe('OpenAI-compatible: /chat/completions with messages, or the legacy /completions with the conversation as one prompt.'),
    keepAlive: duration('Ollama: how long the server keeps a model loaded after a request (`keep_alive`).').optional(),
    baseUrl: z
      .url()
      .optional()
      .describe('Base URL of the API, including /v1 for OpenAI-compatible servers. Omit it when `mock` is given: the built-in mock is started and used.'),
    apiKeyEnv: z
      .string()
      .regex(ENV_NAME, 'must be the NAME of an environment variable (such as OPENAI_API_KEY), never the key itself')
      .optional()
      .describe('Name of the environment variable that holds the API key. The key itself never appears in a plan, a job or a report.'),
    stream: z.boolean().default(true).describe('Use SSE streaming (needed for time to first token).'),
    requestTimeout: duration('Time after which a request counts as a timeout error.').prefault('30s'),
    memory: targetMemorySchema.prefault({ source: 'none' }).describe('How to sample the target\'s memory.'),
    mock: mockServerSchema.optional().describe('Start the built-in mock LLM in-process and test against it.'),
  })
  .superRefine((target, ctx) => {
    if (target.kind === 'module') {
      if (target.module === undefined) ctx.addIssue({ code: 'custom', path: ['module'], message: 'is required for kind "module": give the path of your integration module' });
      if (target.baseUrl !== undefined || target.mock !== undefined) ctx.addIssue({ code: 'custom', path: ['kind'], message: '"module" runs your code in the worker threads: remove baseUrl and mock' });
      return;
    }
    if (target.module !== undefined || target.heapSnapshots) {
      ctx.addIssue({ code: 'custom', path: [target.module !== undefined ? 'module' : 'heapSnapshots'], message: 'applies to kind "module" only' });
    }
    if (target.baseUrl === undefined && target.mock === undefined) {
      ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'is required: give the server\'s URL (such as http://127.0.0.1:11434/v1), or add a `mock` section to test the built-in mock' });
    }
    if (target.endpoint === 'completions' && target.kind !== 'openai') {
      ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'applies to kind "openai" only' });
    }
    if (target.keepAlive !== undefined && target.kind !== 'ollama') {
      ctx.addIssue({ code: 'custom', path: ['keepAlive'], message: 'applies to kind "ollama" only: remove it, or set kind: ollama' });
    }
    if (target.baseUrl !== undefined && target.mock !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['mock'], message: 'cannot be combined with baseUrl: remove one of them' });
    }
  });

// ---------------------------------------------------------------------------------------------
// Phases.

export const stageSchema = z.strictObject({
  duration: duration('Length of this stage.'),
  rate: z.number().min(0).optional().describe('Open loop: arrivals per second reached at the end of the stage; the rate ramps linearly to it from the previous stage\'s.'),
  concurrency: z.number().int().min(0).optional().describe('Closed loop: conversations in flight at the end of the stage; ramps linearly from the previous stage\'s.'),
});

export const loadSchema = z
  .strictObject({
    mode: z
      .enum(['closed', 'open'])
      .default('closed')
      .describe('"closed": `concurrency` conversations, each sending its next turn when the last reply ended. "open": requests arrive on a schedule (`rate` or `stages`) whether or not earlier ones finished; latency is also measured from the scheduled start.'),
    concurrency: z.number().int().min(1).default(1).describe('Closed loop: conversations held in flight. Open loop: the most requests in flight; arrivals beyond it wait (and show as scheduling lag and response time).'),
    rate: z.number().positive().optional().describe('Open loop: arrivals per second.'),
    stages: z.array(stageSchema).min(1).optional().describe('Open loop: rate ramps, one after the other; they set the phase duration.'),
    arrival: z.enum(['constant', 'poisson']).default('constant').describe('Open loop: evenly spaced arrivals, or a Poisson process with the same mean rate (seeded).'),
    duration: duration('How long the measured part of the phase runs (after the warm-up).').optional(),
    requests: z.number().int().min(1).optional().describe('Stop after this many measured requests (whichever of duration and requests comes first).'),
    warmup: duration('Time at the start whose requests are sent but not measured.').prefault('0s'),
    cooldown: duration('Time at the end whose requests are sent but not measured.').prefault('0s'),
  })
  .superRefine((load, ctx) => {
    if (load.mode === 'open' && load.rate === undefined && load.stages === undefined) {
      ctx.addIssue({ code: 'custom', path: ['rate'], message: 'is required for mode "open": give arrivals per second (such as `rate: 20`) or `stages`' });
    }
    if (load.mode === 'closed' && load.rate !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['rate'], message: 'applies to open-loop load only: add `mode: open`, or remove it' });
    }
    load.stages?.forEach((stage, index) => {
      const [needed, wrong] = load.mode === 'open' ? (['rate', 'concurrency'] as const) : (['concurrency', 'rate'] as const);
      if (stage[needed] === undefined) ctx.addIssue({ code: 'custom', path: ['stages', index, needed], message: `is required in the stages of ${load.mode}-loop load` });
      if (stage[wrong] !== undefined) ctx.addIssue({ code: 'custom', path: ['stages', index, wrong], message: `does not apply to ${load.mode}-loop load: use ${needed}` });
    });
    if (load.mode === 'closed' && load.stages && load.concurrency < Math.max(...load.stages.map((stage) => stage.concurrency ?? 0))) {
      ctx.addIssue({ code: 'custom', path: ['concurrency'], message: `must be at least the largest stage concurrency (${Math.max(...load.stages.map((stage) => stage.concurrency ?? 0))}): it sizes the conversation loops the stages ramp through` });
    }
    const staged = load.stages?.reduce((sum, stage) => sum + stage.duration, 0);
    if (staged !== undefined && staged <= load.warmup + load.cooldown) {
      ctx.addIssue({ code: 'custom', path: ['stages'], message: `last ${staged} ms in all, which leaves nothing to measure after warmup and cooldown: lengthen the stages` });
    }
    if (load.stages && load.duration !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['duration'], message: 'comes from the stages when `stages` is given: remove one of them' });
    }
  })
  .transform((load) => (load.stages ? { ...load, duration: load.stages.reduce((sum, stage) => sum + stage.duration, 0) - load.warmup } : load))
  .describe('Load of a phase: closed loop (concurrency) or open loop (arrival rate).');

export const conversationSchema = z.strictObject({
  turns: z.number().int().min(1).default(8).describe('User turns in one conversation; then a new conversation starts with an empty history.'),
  promptTokens: z.number().int().min(0).default(32).describe('Filler words added to each user turn, so that history grows as in a real chat.'),
  maxTokens: z.number().int().min(1).default(32).describe('Output tokens requested per reply (`max_tokens`).'),
  systemPrompt: z.string().prefault('You are a helpful assistant.').describe('System message that opens each conversation.'),
});

export const contextSchema = z.strictObject({
  facts: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Facts planted per conversation ("the code word for X is Y") and probed in a later turn. 0 turns probes off.'),
  minDistance: z.number().int().min(1).default(2).describe('Fewest turns between planting a fact and probing it.'),
});

export const switchSchema = z.strictObject({
  cycles: z.number().int().min(1).default(3).describe('Times the scenario goes through all its models.'),
  requestsPerModel: z
    .number()
    .int()
    .min(2)
    .default(4)
    .describe('Requests sent to a model before switching to the next; the first pays the switch, the others are warm.'),
});

export const phaseSchema = z
  .strictObject({
    name: z.string().regex(NAME, 'must be lower-case letters, digits and dashes, such as "baseline"').describe('Phase name, unique in the plan.'),
    description: z.string().optional(),
    scenario: z
      .enum(['requests', 'model-switch'])
      .describe('"requests": concurrent conversations held at `load.concurrency`. "model-switch": alternate between `models` and measure the switch.'),
    models: z.array(z.string().min(1)).min(1).describe('Models the phase sends requests to; conversations rotate over them in "requests".'),
    load: loadSchema.prefault({}),
    conversation: conversationSchema.prefault({}),
    context: contextSchema.prefault({}),
    switch: switchSchema.prefault({}).describe('Model-switch settings (scenario "model-switch" only).'),
    memory: z
      .strictObject({
        interval: duration('Interval between memory samples of harness and target.').prefault('500ms'),
        leakThreshold: byteSize('Growth along a steady upward trend over the phase that counts as a leak.').prefault('50MB'),
      })
      .prefault({ interval: '500ms', leakThreshold: '50MB' }),
    stability: z
      .strictObject({
        window: duration('Width of the windows the stability metric is computed over.').prefault('1s'),
        maxErrorRate: fraction('A window with a larger share of failed requests is unstable.').prefault('1%'),
        minThroughputRatio: fraction('A window whose completions fall below this share of the median window is unstable.').prefault('50%'),
      })
      .prefault({ window: '1s', maxErrorRate: '1%', minThroughputRatio: '50%' }),
    slo: z
      .strictObject({
        ttft: duration('Largest time to first token of a good request.').optional(),
        e2e: duration('Largest end-to-end latency of a good request.').optional(),
        tpot: duration('Largest time per output token of a good request.').optional(),
        itl: duration('Largest gap between two tokens of a good request.').optional(),
      })
      .prefault({})
      .describe('Per-request service levels: goodput counts the successful requests that meet all of them.'),
    shards: z.number().int().min(1).default(1).describe('Jobs the phase load is split over (distributed runs); criteria use the merged result.'),
    generator: z
      .strictObject({
        maxEventLoopLag: duration('A generator thread whose event loop lags more than this (p99) cannot be trusted to send on time.').prefault('50ms'),
        maxUtilization: fraction('A generator thread busier than this was the bottleneck.').prefault('90%'),
        maxSchedulingLag: duration('Open loop: arrivals started later than this (p99) mean the generator fell behind.').prefault('50ms'),
        failOnUntrustworthy: z.boolean().default(false).describe('Fail the phase when the generator itself was the bottleneck (it is always flagged in the report).'),
      })
      .prefault({})
      .describe('Self-checks of the load generator.'),
    criteria: z
      .record(z.string(), z.string())
      .prefault({})
      .describe('Success criteria: metric path -> condition with a unit, such as `latency.e2e.p95: "< 1s"`.')
      .transform((written, ctx) =>
        Object.entries(written).map(([metric, condition]) => {
          const parsed = parseCriterion(metric, condition);
          if ('error' in parsed) ctx.issues.push({ code: 'custom', path: [metric], input: condition, message: parsed.error });
          return parsed as Criterion;
        }),
      ),
  })
  .superRefine((phase, ctx) => {
    if (phase.scenario === 'requests' && phase.load.duration === undefined && phase.load.requests === undefined) {
      ctx.addIssue({ code: 'custom', path: ['load'], message: 'needs `duration` or `requests` (or both) so that the phase ends: add for example `duration: "30s"`' });
    }
    if (phase.scenario === 'model-switch' && new Set(phase.models).size < 2) {
      ctx.addIssue({ code: 'custom', path: ['models'], message: `needs at least two different models to switch between (got ${JSON.stringify(phase.models)})` });
    }
    if (phase.load.requests !== undefined && phase.load.requests < phase.shards) {
      ctx.addIssue({ code: 'custom', path: ['load', 'requests'], message: `must be >= shards (${phase.shards}) so that every shard sends at least one request (got ${phase.load.requests})` });
    }
    if (phase.context.facts > 0 && phase.context.facts + phase.context.minDistance > phase.conversation.turns) {
      ctx.addIssue({
        code: 'custom',
        path: ['context', 'facts'],
        message: `${phase.context.facts} facts probed at least ${phase.context.minDistance} turns later need conversation.turns >= ${phase.context.facts + phase.context.minDistance} (got ${phase.conversation.turns})`,
      });
    }
    if (phase.shards > phase.load.concurrency) {
      ctx.addIssue({ code: 'custom', path: ['shards'], message: `must be <= load.concurrency (${phase.load.concurrency}) so that every shard holds at least one conversation (got ${phase.shards})` });
    }
  });

export const planSchema = z
  .strictObject({
    version: z.literal(1).default(1).describe('Plan format version.'),
    name: z.string().regex(NAME, 'must be lower-case letters, digits and dashes, such as "tdr-011"').describe('Plan name, used in reports and run ids.'),
    description: z.string().optional(),
    seed: z.number().int().default(1).describe('Seed of every generated prompt, fact and schedule: the same seed sends the same requests.'),
    target: targetSchema,
    phases: z.array(phaseSchema).min(1).describe('Phases, run one after the other.'),
  })
  .superRefine((plan, ctx) => {
    const seen = new Set<string>();
    plan.phases.forEach((phase, index) => {
      if (seen.has(phase.name)) ctx.addIssue({ code: 'custom', path: ['phases', index, 'name'], message: `"${phase.name}" is used by an earlier phase: phase names must be unique` });
      seen.add(phase.name);
    });
    const served = plan.target.mock?.models.map((model) => model.name);
    if (served) {
      plan.phases.forEach((phase, index) => {
        phase.models.forEach((model, modelIndex) => {
          if (!served.includes(model)) {
            ctx.addIssue({ code: 'custom', path: ['phases', index, 'models', modelIndex], message: `"${model}" is not served by target.mock (it serves ${served.join(', ')})` });
          }
        });
      });
    }
  });

export type PlanInput = z.input<typeof planSchema>;
export type Plan = z.output<typeof planSchema>;
export type Phase = Plan['phases'][number];
export type Target = Plan['target'];
export type MockServerConfig = z.output<typeof mockServerSchema>;
export type MockServerConfigInput = z.input<typeof mockServerSchema>;
export type MockModelConfig = z.output<typeof mockModelSchema>;
