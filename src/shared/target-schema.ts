/**
 * The target of a plan: the LLM endpoint under test, one variant per `kind`. HTTP targets name a
 * server (`baseUrl`) or start the built-in mock (`mock`); a module target is the team's own
 * integration code, loaded into the worker threads.
 */
import { z } from 'zod';
import { mockServerSchema } from './mock-schema';
import { byteSize, duration, PLAN_LIMITS } from './plan-units';
import { TARGET_MEMORY_UNITS } from './units';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const targetMemorySchema = z
  .discriminatedUnion('source', [
    z.strictObject({ source: z.literal('none').default('none') }),
    z.strictObject({
      source: z.literal('ollama-ps'),
      url: z.url().optional().describe("Base URL of the Ollama API (default: the target's origin)."),
    }),
    z.strictObject({
      source: z.literal('pid'),
      pid: z
        .number({ error: 'is required when source is "pid": give the process id of the local LLM server' })
        .int()
        .positive()
        .max(PLAN_LIMITS.pid)
        .describe("Process id of a local server; its RSS and its children's are summed."),
    }),
    z.strictObject({
      source: z.literal('prometheus'),
      url: z
        .url({ error: 'is required when source is "prometheus": give the metrics URL, such as http://127.0.0.1:8000/metrics' })
        .describe('The metrics URL, such as http://127.0.0.1:8000/metrics.'),
      metric: z
        .string()
        .regex(
          /^[a-zA-Z_:][\w:]*(\{.*\})?$/,
          'must be a Prometheus metric name, optionally with labels: process_resident_memory_bytes{job="vllm"}',
        )
        .default('process_resident_memory_bytes')
        .describe('The metric to read (samples matching it are summed), such as process_resident_memory_bytes.'),
      unit: z
        .enum(TARGET_MEMORY_UNITS)
        .default('bytes')
        .describe(
          'What the metric counts: bytes, a ratio (vllm:gpu_cache_usage_perc, 0..1) or a count (llamacpp:n_tokens_max). ' +
            'Memory criteria are written and reported in it; the leak verdict is judged on bytes only.',
        ),
    }),
  ])
  .describe(
    "Where target memory comes from: Ollama's /api/ps (also served by the mock), " +
      'the RSS of a local process and its children, a Prometheus metric, or nowhere.',
  );

// Above 0, or every request times out before it is sent; at most an hour, which no answer needs (and
// Node timers past 2^31 ms fire at once, which made every request time out).
const requestTimeout = duration('Time after which a request counts as a timeout error.', {
  min: { value: '1ms', why: 'a request needs time to be answered' },
  max: { value: '1h', why: 'no answer takes longer' },
}).prefault('30s');

/** What OpenAI-compatible and Ollama targets share. */
const httpTargetFields = {
  baseUrl: z
    .url()
    .optional()
    .describe(
      'Base URL of the API, including /v1 for OpenAI-compatible servers. ' +
        'Omit it when `mock` is given: the built-in mock is started and used.',
    ),
  apiKeyEnv: z
    .string()
    .max(256, 'must be the NAME of an environment variable (such as OPENAI_API_KEY), never the key itself')
    .regex(ENV_NAME, 'must be the NAME of an environment variable (such as OPENAI_API_KEY), never the key itself')
    .refine(
      (name) => !name.startsWith('GRYM_'),
      'names a grym-perf setting (GRYM_*), which is never sent to a target: name the variable that holds the API key',
    )
    .optional()
    .describe('Name of the environment variable that holds the API key. The key itself never appears in a plan, a job or a report.'),
  stream: z.boolean().default(true).describe('Use SSE streaming (needed for time to first token).'),
  requestTimeout,
  maxResponseBytes: byteSize('Largest response body read; a larger one is cut off and counted as response_too_large.', {
    min: { value: '1B' },
    // A body is read into one string while it is parsed: V8 strings stop at ~512 MiB, and no answer comes near.
    max: { value: '256MiB', why: 'answers are read whole into memory' },
  })
    // Whole bytes: workers take an integer.
    .transform((bytes) => Math.ceil(bytes))
    .prefault('16MB'),
  memory: targetMemorySchema.prefault({ source: 'none' }),
  mock: mockServerSchema.optional().describe('Start the built-in mock LLM in-process and test against it.'),
};

const openAiTargetSchema = z
  .strictObject({
    kind: z
      .literal('openai')
      .default('openai')
      .describe('OpenAI-compatible chat completions (vLLM, llama.cpp, LM Studio, Ollama /v1, hosted APIs).'),
    endpoint: z
      .enum(['chat', 'completions'])
      .default('chat')
      .describe('/chat/completions with messages, or the legacy /completions with the conversation as one prompt.'),
    ...httpTargetFields,
  })
  .transform(({ requestTimeout, ...rest }) => ({ ...rest, requestTimeoutMs: requestTimeout }));

const ollamaTargetSchema = z
  .strictObject({
    kind: z.literal('ollama').describe("Ollama's native /api/chat, with its model load times."),
    keepAlive: duration('How long the server keeps a model loaded after a request (`keep_alive`).').optional(),
    ...httpTargetFields,
  })
  .transform(({ requestTimeout, keepAlive, ...rest }) => ({ ...rest, requestTimeoutMs: requestTimeout, keepAliveMs: keepAlive }));

const moduleTargetSchema = z
  .strictObject({
    kind: z.literal('module').describe('Your own integration code, loaded into the worker threads.'),
    module: z
      .string({ error: 'is required for kind "module": give the path of your integration module, relative to the plan file' })
      .min(1)
      .describe('Path of the JS module (relative to the plan file) exporting `createSession`; see the README.'),
    heapSnapshots: z
      .boolean()
      .default(false)
      .describe('Write V8 heap snapshots of a thread at phase start and end when its heap grows past memory.leakThreshold.'),
    requestTimeout,
  })
  .transform(({ requestTimeout, ...rest }) => ({ ...rest, requestTimeoutMs: requestTimeout }));

export const targetSchema = z
  .discriminatedUnion('kind', [openAiTargetSchema, ollamaTargetSchema, moduleTargetSchema])
  .superRefine((target, ctx) => {
    if (target.kind === 'module') return;
    if (target.baseUrl === undefined && target.mock === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['baseUrl'],
        message:
          "is required: give the server's URL (such as http://127.0.0.1:11434/v1), or add a `mock` section to test the built-in mock",
      });
    }
    if (target.baseUrl !== undefined && target.mock !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['mock'], message: 'cannot be combined with baseUrl: remove one of them' });
    }
  })
  .describe('The LLM endpoint under test.');

export type Target = z.output<typeof targetSchema>;
export type HttpTargetConfig = Extract<Target, { kind: 'openai' | 'ollama' }>;

/** The built-in mock a plan asks for, if any. */
export function mockOf(target: Target): z.output<typeof mockServerSchema> | undefined {
  return target.kind === 'module' ? undefined : target.mock;
}
