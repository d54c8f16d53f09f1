import type { ShardTask } from '../../shared/shard-task';
import type { Recorder } from '../recorder';
import type { LlmTarget } from '../targets/llm-target';
import type { TargetMemoryReader } from '../memory/read-target-memory';
import type { MemorySample } from '../../shared/phase-metrics';

/** What a scenario runs with in its thread: its share of the shard and the tools to measure. */
export interface ScenarioContext {
  task: ShardTask;
  /** Index of this thread's slice within the shard, and how many slices the shard has. */
  sliceIndex: number;
  sliceCount: number;
  /** Conversations this slice holds in flight: the shard's loops firstLoop .. firstLoop + concurrency - 1. */
  concurrency: number;
  firstLoop: number;
  target: LlmTarget;
  recorder: Recorder;
  readTargetMemory?: TargetMemoryReader;
  /** Target memory at the end of each model-switch cycle. */
  targetPerCycle: MemorySample[];
  /** Called after every request (the caller throttles). */
  onRequestDone(): void;
}
