/**
 * A phase -> its shard tasks, in the form they travel (`ShardTaskData`): the phase as the user
 * wrote it, the load split evenly, a seed per shard, the resolved target, no secrets.
 */
import type { LoadedPlan } from '../shared/parse-plan';
import type { PhaseInput } from '../shared/phase-schema';
import type { ResolvedTarget } from '../shared/resolved-target';
import { deriveSeed, splitEvenly, type ShardTaskData } from '../shared/shard-task';

/** What a run asks of its shards beyond the plan: requests to keep for `run --requests` (per phase). */
export interface ShardTaskOptions {
  requestLog?: number;
}

export function shardTasks(
  loaded: LoadedPlan,
  phaseIndex: number,
  target: ResolvedTarget,
  runId: string,
  options: ShardTaskOptions = {},
): ShardTaskData[] {
  const { plan } = loaded;
  const phase = plan.phases[phaseIndex];
  const written = (loaded.input as { phases: PhaseInput[] }).phases[phaseIndex];
  if (!phase || !written) throw new RangeError(`plan ${plan.name} has no phase ${phaseIndex}`);
  const concurrency = splitEvenly(phase.load.concurrency, phase.shards);
  const requests = phase.load.requests === undefined ? undefined : splitEvenly(phase.load.requests, phase.shards);
  const requestLog = splitEvenly(options.requestLog ?? 0, phase.shards);
  return concurrency.map((shardConcurrency, shardIndex) => ({
    runId,
    seed: deriveSeed(plan.seed, phaseIndex, shardIndex),
    phaseIndex,
    phase: written,
    target,
    shardIndex,
    shardCount: phase.shards,
    concurrency: shardConcurrency,
    ...(requests ? { requests: requests[shardIndex] as number } : {}),
    requestLog: requestLog[shardIndex] as number,
  }));
}
