/**
 * The plan's target -> the target as workers need it: the built-in mock resolved to its URL (its
 * memory read from its /api/ps unless the plan says otherwise), a module to its absolute path,
 * Ollama's /api/ps to the target's origin by default.
 */
import { resolve } from 'node:path';
import { InternalError } from '../shared/errors';
import type { HttpTarget, ResolvedTarget } from '../shared/resolved-target';
import type { HttpTargetConfig, Target } from '../shared/target-schema';

function resolveMemory(target: HttpTargetConfig, baseUrl: string, mockUrl: string | undefined): HttpTarget['memory'] {
  const memory = target.memory;
  if (memory.source === 'none') return target.mock && mockUrl ? { source: 'ollama-ps', url: mockUrl } : memory;
  if (memory.source === 'ollama-ps') return { source: 'ollama-ps', url: memory.url ?? new URL(baseUrl).origin };
  return memory;
}

export function resolveTarget(target: Target, mockUrl?: string, planDir = process.cwd()): ResolvedTarget {
  if (target.kind === 'module') {
    return {
      kind: 'module',
      modulePath: resolve(planDir, target.module),
      heapSnapshots: target.heapSnapshots,
      requestTimeoutMs: target.requestTimeoutMs,
      memory: { source: 'thread-heap' },
    };
  }
  // The mock speaks both APIs: OpenAI under /v1, Ollama at its root.
  const baseUrl = target.baseUrl ?? (mockUrl ? (target.kind === 'ollama' ? mockUrl : `${mockUrl}/v1`) : undefined);
  if (!baseUrl) throw new InternalError('the plan tests the built-in mock, but no mock was started');
  const http = {
    baseUrl,
    ...(target.apiKeyEnv ? { apiKeyEnv: target.apiKeyEnv } : {}),
    stream: target.stream,
    requestTimeoutMs: target.requestTimeoutMs,
    maxResponseBytes: target.maxResponseBytes,
    memory: resolveMemory(target, baseUrl, mockUrl),
  };
  if (target.kind === 'ollama')
    return { kind: 'ollama', ...http, ...(target.keepAliveMs !== undefined ? { keepAliveMs: target.keepAliveMs } : {}) };
  return { kind: 'openai', endpoint: target.endpoint, ...http };
}
