export { DEFAULT_MOCK_CONFIG } from './default-config';
export { startMockLlm, type MockLlmServer, type MockStats } from './start-mock-llm';
