export { startMockLlm, type MockLlmServer } from './start-mock-llm';
