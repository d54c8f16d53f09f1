/**
 * The mock's small GET endpoints: model lists (OpenAI /v1/models, Ollama /api/tags), what is
 * loaded (Ollama /api/ps), the simulated memory in Prometheus text (/metrics), /health, and the
 * mock's own counters (/stats).
 */
import type { MockServerConfig } from '../../shared/mock-schema';
import { sendJson } from '../http-json';
import type { MockEngine } from '../mock-engine';
import { CREATED_S, type MockRoute } from './mock-route';

/** How long Ollama keeps an idle model loaded by default: /api/ps's `expires_at`. */
const OLLAMA_KEEP_ALIVE_MS = 5 * 60_000;

export function infoRoutes(engine: MockEngine, config: MockServerConfig): Record<string, MockRoute> {
  return {
    'GET /v1/models': (_request, response) =>
      sendJson(response, 200, {
        object: 'list',
        data: config.models.map((model) => ({ id: model.name, object: 'model', created: CREATED_S, owned_by: 'grym-perf-mock' })),
      }),
    'GET /api/tags': (_request, response) =>
      sendJson(response, 200, { models: config.models.map((model) => ({ name: model.name, model: model.name, size: model.memoryBytes })) }),
    'GET /api/ps': (_request, response) =>
      sendJson(response, 200, {
        models: engine.residency.list().map((entry) => ({
          name: entry.name,
          model: entry.name,
          size: entry.sizeBytes,
          size_vram: 0,
          expires_at: new Date(entry.loadedAtMs + OLLAMA_KEEP_ALIVE_MS).toISOString(),
        })),
      }),
    'GET /metrics': (_request, response) => {
      // Prometheus text format, as vLLM and most servers expose it: the mock's simulated memory.
      const loaded = engine.residency.list();
      const loadedBytes = loaded.reduce((sum, entry) => sum + entry.sizeBytes, 0);
      const servedBytes = config.models.reduce((sum, model) => sum + model.memoryBytes, 0);
      const lines = [
        '# HELP process_resident_memory_bytes Memory of the loaded models.',
        '# TYPE process_resident_memory_bytes gauge',
        `process_resident_memory_bytes ${loadedBytes}`,
        '# TYPE mock_model_loaded_bytes gauge',
        ...loaded.map((entry) => `mock_model_loaded_bytes{model="${entry.name}"} ${entry.sizeBytes}`),
        // Gauges that are not bytes, as servers expose them (llama.cpp's n_tokens_max, vLLM's cache usage).
        '# HELP mock_models_loaded Models loaded now.',
        '# TYPE mock_models_loaded gauge',
        `mock_models_loaded ${loaded.length}`,
        '# HELP mock_memory_usage_ratio Loaded model memory over the memory of all served models (0..1).',
        '# TYPE mock_memory_usage_ratio gauge',
        `mock_memory_usage_ratio ${servedBytes > 0 ? loadedBytes / servedBytes : 0}`,
      ];
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(`${lines.join('\n')}\n`);
    },
    'GET /health': (_request, response) => sendJson(response, 200, { status: 'ok' }),
    'GET /stats': (_request, response) => sendJson(response, 200, engine.snapshot()),
  };
}
