import type { ResolvedTarget } from '../../shared/shard-task';
import type { LlmTarget } from './llm-target';
import { createModuleTarget } from './module-target';
import { createOllamaTarget } from './ollama-target';
import { createOpenAiTarget } from './openai-target';

/** The target adapter for a plan's `target.kind`. */
export function createTarget(target: ResolvedTarget, connections: number): LlmTarget {
  switch (target.kind) {
    case 'openai':
      return createOpenAiTarget(target, connections);
    case 'ollama':
      return createOllamaTarget(target, connections);
    case 'module':
      return createModuleTarget(target);
  }
}
