import type { ShardTask } from '../../shared/shard-task';
import type { Recorder } from '../recorder';
import type { LlmTarget } from '../targets/llm-target';
import type { TargetMemoryReader } from '../memory/read-target-memory';
import type { MemorySample } from '../../shared/phase-metrics';
import type { SliceStop } from './slice-stop';

/** What a scenario runs with in its thread: its share of the shard and the tools to measure. */
export interface ScenarioContext {
  task: ShardTask;
  /** Epoch ms at which every shard of the phase starts: the common origin of windows and samples. */
  startAtMs: number;
  /** Conversations this slice holds in flight: the shard's loops firstLoop .. firstLoop + concurrency - 1. */
  concurrency: number;
  firstLoop: number;
  target: LlmTarget;
  recorder: Recorder;
  /** The shard's stop: asked before each request, told each outcome, and slept through. */
  stop: SliceStop;
  /** Throws why a reading failed (counted by the recorder). */
  readTargetMemory?: TargetMemoryReader;
  /** Target memory at the end of each model-switch cycle. */
  targetPerCycle: MemorySample[];
  /** Called after every request (the caller throttles). */
  onRequestDone(): void;
}
