import type { ResolvedTarget } from '../../shared/resolved-target';
import type { LlmTarget } from './llm-target';
import { createModuleTarget } from './module-target';
import { createOllamaTarget } from './ollama-target';
import { createOpenAiTarget } from './openai-target';

/**
 * The target adapter for a plan's `target.kind`; a module target is loaded (and checked) first.
 * `stopSignal`: aborted when the harness stops the phase; requests in flight are then abandoned
 * and come back as `aborted`, which is never counted against the target.
 */
export async function createTarget(target: ResolvedTarget, connections: number, stopSignal?: AbortSignal): Promise<LlmTarget> {
  switch (target.kind) {
    case 'openai':
      return createOpenAiTarget(target, connections, stopSignal);
    case 'ollama':
      return createOllamaTarget(target, connections, stopSignal);
    case 'module':
      return createModuleTarget(target, stopSignal);
  }
}
