/**
 * The target as a worker needs it: the built-in mock resolved to its URL, memory sources resolved
 * to where they are read, the API key still only the NAME of an environment variable. Built by the
 * coordinator, carried in shard tasks, checked again by workers.
 */
import { z } from 'zod';
import { TARGET_MEMORY_UNITS, type TargetMemoryUnit } from './units';

const resolvedMemorySchema = z.discriminatedUnion('source', [
  z.strictObject({ source: z.literal('none') }),
  z.strictObject({ source: z.literal('ollama-ps'), url: z.url() }),
  z.strictObject({ source: z.literal('pid'), pid: z.number().int().positive() }),
  z.strictObject({ source: z.literal('prometheus'), url: z.url(), metric: z.string(), unit: z.enum(TARGET_MEMORY_UNITS) }),
]);

const httpFields = {
  baseUrl: z.url(),
  apiKeyEnv: z.string().optional(),
  stream: z.boolean(),
  requestTimeoutMs: z.number().positive(),
  /** A body larger than this is cut off and counted as `response_too_large`. */
  maxResponseBytes: z.number().int().positive(),
  memory: resolvedMemorySchema,
};

export const resolvedTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('openai'), endpoint: z.enum(['chat', 'completions']), ...httpFields }),
  z.strictObject({ kind: z.literal('ollama'), keepAliveMs: z.number().min(0).optional(), ...httpFields }),
  z.strictObject({
    kind: z.literal('module'),
    /** Absolute path of the integration module. */
    modulePath: z.string().min(1),
    heapSnapshots: z.boolean(),
    requestTimeoutMs: z.number().positive(),
    /** The module lives in the worker threads: their heaps are its memory. */
    memory: z.strictObject({ source: z.literal('thread-heap') }),
  }),
]);

export type ResolvedTarget = z.output<typeof resolvedTargetSchema>;
export type HttpTarget = Extract<ResolvedTarget, { kind: 'openai' | 'ollama' }>;
export type OpenAiTarget = Extract<ResolvedTarget, { kind: 'openai' }>;
export type OllamaTarget = Extract<ResolvedTarget, { kind: 'ollama' }>;
export type ModuleTarget = Extract<ResolvedTarget, { kind: 'module' }>;
export type TargetMemory = ResolvedTarget['memory'];

/** The unit the target's memory readings are in: bytes, except for a Prometheus gauge the plan says is not. */
export function targetMemoryUnit(memory: TargetMemory): TargetMemoryUnit {
  return memory.source === 'prometheus' ? memory.unit : 'bytes';
}
