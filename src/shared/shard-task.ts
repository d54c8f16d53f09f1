/**
 * What one shard of a phase runs, and the one way it travels. A task is built once by the
 * coordinator in its wire form (`ShardTaskData`: the phase exactly as the user wrote it) and
 * decoded by whichever executor runs it (`decodeShardTask`), in-process or through Redis, so both
 * resolve the phase the same way and a new field is added in one schema. Tasks carry no start time
 * (the executor sets it) and no secrets (an API key is named by its environment variable).
 */
import { z } from 'zod';
import { phaseSchema } from './phase-schema';
import { resolvedTargetSchema } from './resolved-target';
import { describeIssues } from './describe-issues';
import { MAX_REQUEST_LOG_SIZE } from './defaults';
import { InternalError } from './errors';
import { firstStop, type ShardResult, type StopReason } from './shard-result';
import type { LiveTotals } from './live-totals';
import { mergeRecent, type RecentWindows } from './window-series';

export const shardTaskSchema = z.strictObject({
  runId: z.string().min(1),
  /** Seed of this shard: the plan seed mixed with phase and shard index. */
  seed: z.number().int(),
  phaseIndex: z.number().int().min(0),
  phase: phaseSchema,
  target: resolvedTargetSchema,
  shardIndex: z.number().int().min(0),
  shardCount: z.number().int().min(1),
  /** This shard's share of the phase's conversations in flight. */
  concurrency: z.number().int().min(1),
  /** This shard's share of the phase's measured request cap, if the phase has one. */
  requests: z.number().int().min(1).optional(),
  /** Measured requests this shard keeps for `run --requests` (a uniform sample); 0 keeps none. */
  requestLog: z.number().int().min(0).max(MAX_REQUEST_LOG_SIZE).default(0),
});

export type ShardTask = z.output<typeof shardTaskSchema>;
/** A task as it travels between coordinator and executors. */
export type ShardTaskData = z.input<typeof shardTaskSchema>;

/** The task an executor runs; a task that no longer validates (an older coordinator wrote it) says why. */
export function decodeShardTask(data: unknown): ShardTask {
  const parsed = shardTaskSchema.safeParse(data);
  if (!parsed.success)
    throw new InternalError(`shard task does not validate: ${describeIssues(parsed.error, data, shardTaskSchema).join('; ')}`);
  return parsed.data;
}

/** Progress a running shard reports, throttled by the sender. */
export interface ShardProgress {
  type: 'progress';
  shardIndex: number;
  phaseIndex: number;
  completed: number;
  errors: number;
  /** 0..1 of the shard's planned work (time or requests), whichever is further along. */
  fraction: number;
  /** The latest windows it has closed: what live views draw (merged across parts with `mergeRecent`). */
  recent?: RecentWindows;
  /**
   * Everything it has measured since the phase's measured start, taken at most about once a second
   * (and at its end): what live criteria are judged on (a shard's threads merged with `addTotals`).
   */
  totals?: LiveTotals;
  /** Why it is stopping before its planned end, once it knows (an abort condition, its time limit, an interrupt, its phase's stop). */
  stopped?: StopReason;
}

/** Progress of parts running side by side (slices of a shard, shards of a phase) as one. */
export function sumProgress(
  parts: readonly ShardProgress[],
  partCount: number,
): Pick<ShardProgress, 'completed' | 'errors' | 'fraction' | 'recent' | 'stopped'> {
  const recent = parts.length === partCount ? mergeRecent(parts.flatMap((part) => (part.recent ? [part.recent] : []))) : null;
  const stopped = firstStop(parts);
  return {
    completed: parts.reduce((sum, part) => sum + part.completed, 0),
    errors: parts.reduce((sum, part) => sum + part.errors, 0),
    fraction: parts.reduce((sum, part) => sum + part.fraction, 0) / Math.max(1, partCount),
    // Windows only once every part has reported: a missing part would leave them half counted.
    ...(recent ? { recent } : {}),
    ...(stopped ? { stopped } : {}),
  };
}

/** Runs the shards of a phase somewhere and returns their results, in shard order. */
export interface ShardExecutor {
  runPhase(tasks: ShardTaskData[], onProgress?: (progress: ShardProgress) => void): Promise<ShardResult[]>;
  close(): Promise<void>;
}

// Apart from the schema, so that a worker thread uses them without loading zod (~150 ms of its start).
export { deriveSeed } from './derive-seed';
export { splitEvenly } from './split-evenly';
