/**
 * What one shard of a phase runs, and the executor seam between coordinator and workers. The
 * coordinator builds tasks; an executor (in-process pool or BullMQ) runs them and returns
 * `ShardResult`s. Tasks carry no secrets: the API key is named by its environment variable and
 * read by the worker that sends the requests.
 */
import type { Phase } from './plan-schema';
import type { ShardResult } from './shard-result';

/** The target as a worker needs it: the mock resolved to its URL, the key still only a name. */
export interface ResolvedTarget {
  kind: 'openai' | 'ollama' | 'module';
  /** kind "module": absolute path of the integration module, and whether to write heap snapshots. */
  modulePath?: string;
  heapSnapshots?: boolean;
  /** OpenAI-compatible: chat completions or the legacy completions endpoint. */
  endpoint?: 'chat' | 'completions';
  /** Ollama: `keep_alive` in ms. */
  keepAliveMs?: number;
  /** Empty for kind "module". */
  baseUrl: string;
  apiKeyEnv?: string;
  stream: boolean;
  requestTimeoutMs: number;
  /** "thread-heap": the target lives in the worker threads (kind "module"), so their heaps are its memory. */
  memory: { source: 'none' | 'ollama-ps' | 'pid' | 'prometheus' | 'thread-heap'; pid?: number; url?: string; metric?: string };
}

export interface ShardTask {
  runId: string;
  planName: string;
  /** Seed of this shard: the plan seed mixed with phase and shard index. */
  seed: number;
  phaseIndex: number;
  phase: Phase;
  target: ResolvedTarget;
  shardIndex: number;
  shardCount: number;
  /** This shard's share of the phase's conversations in flight. */
  concurrency: number;
  /** This shard's share of the phase's measured request cap, if the phase has one. */
  requests?: number;
  /** Epoch ms at which every shard of the phase starts: the common origin of windows and samples. */
  startAtMs: number;
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
}

/** Runs the shards of a phase somewhere and returns their results, in shard order. */
export interface ShardExecutor {
  runPhase(tasks: ShardTask[], onProgress?: (progress: ShardProgress) => void): Promise<ShardResult[]>;
  close(): Promise<void>;
}

/** A seed for a sub-stream of the plan's randomness, stable across runs. */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let hash = seed >>> 0;
  for (const part of parts) {
    hash = Math.imul(hash ^ (part + 0x9e3779b9), 0x85ebca6b) >>> 0;
    hash ^= hash >>> 13;
  }
  return hash >>> 0;
}

/** Splits `total` into `parts` near-equal integer shares (earlier shares get the remainder). */
export function splitEvenly(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, index) => base + (index < total % parts ? 1 : 0));
}
