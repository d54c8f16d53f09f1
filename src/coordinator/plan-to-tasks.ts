/** A phase -> its shard tasks: load split evenly, a seed per shard, no secrets. */
import { resolve } from 'node:path';
import type { Plan, Target } from '../shared/plan-schema';
import { deriveSeed, splitEvenly, type ResolvedTarget, type ShardTask } from '../shared/shard-task';

/**
 * The target as workers need it. With `mock`, the URL is the running mock's, and its memory
 * comes from the mock's /api/ps unless the plan says otherwise.
 */
export function resolveTarget(target: Target, mockUrl?: string, planDir = process.cwd()): ResolvedTarget {
  if (target.kind === 'module') {
    return {
      kind: 'module',
      baseUrl: '',
      modulePath: resolve(planDir, target.module as string),
      heapSnapshots: target.heapSnapshots,
      stream: target.stream,
      requestTimeoutMs: target.requestTimeout,
      memory: { source: 'thread-heap' },
    };
  }
  // The mock speaks both APIs: OpenAI under /v1, Ollama at its root.
  const baseUrl = target.baseUrl ?? (mockUrl ? (target.kind === 'ollama' ? mockUrl : `${mockUrl}/v1`) : undefined);
  if (!baseUrl) throw new Error('target has neither baseUrl nor a running mock');
  const memory = target.mock && mockUrl && target.memory.source === 'none' ? { source: 'ollama-ps' as const, url: mockUrl } : { ...target.memory };
  return {
    kind: target.kind,
    baseUrl,
    ...(target.apiKeyEnv ? { apiKeyEnv: target.apiKeyEnv } : {}),
    ...(target.keepAlive !== undefined ? { keepAliveMs: target.keepAlive } : {}),
    ...(target.kind === 'openai' ? { endpoint: target.endpoint } : {}),
    stream: target.stream,
    requestTimeoutMs: target.requestTimeout,
    memory,
  };
}

export function phaseToTasks(plan: Plan, phaseIndex: number, target: ResolvedTarget, runId: string, startAtMs: number): ShardTask[] {
  const phase = plan.phases[phaseIndex];
  if (!phase) throw new Error(`plan has no phase ${phaseIndex}`);
  const concurrency = splitEvenly(phase.load.concurrency, phase.shards);
  const requests = phase.load.requests === undefined ? undefined : splitEvenly(phase.load.requests, phase.shards);
  return concurrency.map((shardConcurrency, shardIndex) => ({
    runId,
    planName: plan.name,
    seed: deriveSeed(plan.seed, phaseIndex, shardIndex),
    phaseIndex,
    phase,
    target,
    shardIndex,
    shardCount: phase.shards,
    concurrency: shardConcurrency,
    ...(requests ? { requests: requests[shardIndex] as number } : {}),
    startAtMs,
  }));
}
