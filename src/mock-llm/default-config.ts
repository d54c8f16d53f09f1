import { mockServerSchema, type MockServerConfig } from '../shared/mock-schema';

/** What `grym-perf mock-llm` serves without a plan: a small and a large model. */
export const DEFAULT_MOCK_CONFIG: MockServerConfig = mockServerSchema.parse({
  seed: 1,
  maxLoadedModels: 1,
  models: [
    { name: 'mock-7b', contextWindowTokens: 4096, ttft: '60ms', tokensPerSecond: 150, loadTime: '400ms', memory: '5GB' },
    { name: 'mock-13b', contextWindowTokens: 8192, ttft: '90ms', tokensPerSecond: 90, loadTime: '700ms', memory: '8GB' },
  ],
});
