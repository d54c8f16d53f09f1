/**
 * Payloads of the BullMQ jobs of a distributed run. A worker re-parses every payload: Redis may
 * hold jobs written by an older coordinator. Payloads carry no secrets: API keys are named by
 * environment variable only.
 */
import { z } from 'zod';
import { shardTaskSchema } from './shard-task';

export const shardJobSchema = z.strictObject({
  type: z.literal('shard'),
  task: shardTaskSchema,
  /** How long the shard waits at the start barrier for the other shards of its phase. */
  barrierTimeoutMs: z.number().int().positive(),
});

export const phaseJobSchema = z.strictObject({
  type: z.literal('phase'),
  runId: z.string(),
  phaseIndex: z.number().int().min(0),
  phaseName: z.string(),
  /** The shard jobs this phase fans out to, as the coordinator built them (each worker parses its own). */
  shards: z.array(z.unknown()),
  /** Where the phase job is: fanning out its shards, guarding them while they run, or merging their results. */
  step: z.enum(['fan-out', 'guard', 'merge']).default('fan-out'),
});

export const runJobSchema = z.strictObject({
  type: z.literal('run'),
  runId: z.string(),
  planSource: z.string(),
  /** The plan as the user wrote it (it names key variables, never keys). */
  planInput: z.unknown(),
  submittedAt: z.string(),
});

export type ShardJobData = z.input<typeof shardJobSchema>;
export type PhaseJobData = z.input<typeof phaseJobSchema>;
export type RunJobData = z.input<typeof runJobSchema>;
export type PhaseJob = z.output<typeof phaseJobSchema>;
export type RunJob = z.output<typeof runJobSchema>;
