/**
 * Payloads of the BullMQ jobs of a distributed run. A worker re-parses every payload: Redis may
 * hold jobs written by an older coordinator. Phases travel as the user wrote them (`phaseInput`)
 * and are parsed again with the plan's own phase schema, so the worker resolves units exactly as a
 * local run does. Payloads carry no secrets: API keys are named by environment variable only.
 */
import { z } from 'zod';
import { phaseSchema } from './plan-schema';

export const resolvedTargetSchema = z.strictObject({
  kind: z.enum(['openai', 'ollama', 'module']),
  modulePath: z.string().optional(),
  heapSnapshots: z.boolean().optional(),
  keepAliveMs: z.number().min(0).optional(),
  endpoint: z.enum(['chat', 'completions']).optional(),
  baseUrl: z.union([z.url(), z.literal('')]),
  apiKeyEnv: z.string().optional(),
  stream: z.boolean(),
  requestTimeoutMs: z.number().positive(),
  memory: z.strictObject({
    source: z.enum(['none', 'ollama-ps', 'pid', 'prometheus', 'thread-heap']),
    pid: z.number().int().optional(),
    url: z.string().optional(),
    metric: z.string().optional(),
  }),
});

export const shardJobSchema = z.strictObject({
  type: z.literal('shard'),
  runId: z.string(),
  planName: z.string(),
  seed: z.number().int(),
  phaseIndex: z.number().int().min(0),
  phaseInput: z.unknown().transform((input, ctx) => {
    const parsed = phaseSchema.safeParse(input);
    if (!parsed.success) {
      ctx.issues.push({ code: 'custom', input, message: `phase no longer valid: ${parsed.error.issues.map((i) => i.message).join('; ')}` });
      return z.NEVER;
    }
    return parsed.data;
  }),
  target: resolvedTargetSchema,
  shardIndex: z.number().int().min(0),
  shardCount: z.number().int().min(1),
  concurrency: z.number().int().min(1),
  requests: z.number().int().min(1).optional(),
  /** How long a shard waits at the start barrier for the other shards of its phase. */
  barrierTimeoutMs: z.number().int().positive(),
});

export const phaseJobSchema = z.strictObject({
  type: z.literal('phase'),
  runId: z.string(),
  phaseIndex: z.number().int().min(0),
  phaseName: z.string(),
  /** The shard jobs this phase fans out to, built by the coordinator. */
  shards: z.array(z.unknown()),
  /** Where the phase job is: fanning out its shards, or merging their results. */
  step: z.enum(['fan-out', 'merge']).default('fan-out'),
});

export const runJobSchema = z.strictObject({
  type: z.literal('run'),
  runId: z.string(),
  planSource: z.string(),
  /** The plan as the user wrote it (it names key variables, never keys). */
  planInput: z.unknown(),
  submittedAt: z.string(),
});

export type ShardJobInput = z.input<typeof shardJobSchema>;
export type ShardJob = z.output<typeof shardJobSchema>;
export type PhaseJob = z.output<typeof phaseJobSchema>;
export type RunJob = z.output<typeof runJobSchema>;
