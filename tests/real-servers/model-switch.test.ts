/**
 * A model-switch phase over llama-server's router (`--models-dir` with tiny-a and tiny-b,
 * `--models-max 1`): every switch really unloads one model and loads the other, in a new process.
 * The server's own count of loads (its log's `spawning server instance with name=X`, and the
 * `"loaded"` events of `GET /models/sse`) must equal grym-perf's switch count, and every switch
 * must take longer than the warm requests (a load is 100-300 ms here, a warm answer 15-40 ms).
 *
 * The router closes the connection after every answer, the race connection-errors.test.ts covers;
 * it used to fail the first request after a switch now and then, and the next request paid the load
 * but was counted warm. A switch is now the first request to the next model that reaches the server.
 */
import { createLocalExecutor } from '../../src/worker';
import type { PlanInput } from '../../src/shared/plan-schema';
import { realServersCache, startLlamaServer, type TestLlamaServer } from '../helpers/llama-server';
import { ms, recordFigures } from './helpers/record-figures';
import { loadTimesMs, watchModelEvents, type ModelEvents } from './helpers/model-events';
import { runPhase } from './helpers/run-phase';
import { modelLoads } from './helpers/server-log';

/**
 * 11 switches: at the old 5-15 % false-error rate a switch request failed (and was miscounted) in
 * 1 - 0.95^11 .. 1 - 0.85^11 = 43-83 % of runs. About 4 s.
 */
const CYCLES = 6;

let server: TestLlamaServer;
let modelEvents: ModelEvents;
const executor = createLocalExecutor({ threads: 1 });

beforeAll(async () => {
  server = await startLlamaServer({ modelsDir: realServersCache().modelsDir, modelsMax: 1 });
  modelEvents = await watchModelEvents(server.url);
});

afterAll(async () => {
  await modelEvents?.close();
  await executor.close();
  await server?.stop();
});

function switchPlan(): PlanInput {
  return {
    name: 'model-switch',
    target: { kind: 'openai', baseUrl: `${server.url}/v1`, stream: true },
    phases: [
      {
        name: 'switch',
        scenario: 'model-switch',
        models: ['tiny-a', 'tiny-b'],
        switch: { cycles: CYCLES, requestsPerModel: 3 },
        conversation: { turns: 6, promptTokens: 16, maxTokens: 8 },
      },
    ],
  };
}

test(`${CYCLES} cycles over tiny-a and tiny-b: switches counted = the server's loads, each above the warm requests`, async () => {
  // The phase starts on tiny-a: load it first, so that every load during the phase is a switch.
  const loadResponse = await fetch(`${server.url}/models/load`, { method: 'POST', body: JSON.stringify({ model: 'tiny-a' }) });
  expect(loadResponse.status).toBe(200);
  await modelEvents.until((events) => events.some((event) => event.model === 'tiny-a' && event.status === 'loaded'));
  const firstEvent = modelEvents.events.length;
  const mark = server.lineCount();

  const report = await runPhase(executor, switchPlan());
  const loads = modelLoads(server.linesSince(mark));
  // Each load's "loaded" event is sent before the request that waited for it is answered; allow for delivery.
  await modelEvents.until((events) => events.slice(firstEvent).filter((event) => event.status === 'loaded').length >= loads.length);
  const events = modelEvents.events.slice(firstEvent);
  const loadedEvents = events.filter((event) => event.status === 'loaded').map((event) => event.model);
  const { switch: switches, requests } = report.metrics;
  recordFigures('model-switch', {
    requests: requests.total,
    errors: requests.byClass,
    switchCount: switches.count,
    serverLoadsLog: loads.length,
    serverLoadedEvents: loadedEvents.length,
    serverLoadMs: loadTimesMs(events).map((load) => `${load.model} ${Math.round(load.ms)}`),
    switchTimeMs: { min: switches.time?.min, p50: switches.time?.p50, max: switches.time?.max },
    warmMs: { p50: switches.warm?.p50, p90: switches.warm?.p90, max: switches.warm?.max },
    penaltyP50Ms: ms(switches.penaltyP50),
    sequence: switches.sequence.map(
      (request) => `${request.model}:${request.role}:${request.e2eMs === null ? 'failed' : Math.round(request.e2eMs)}`,
    ),
  });

  const expectedSwitches = CYCLES * 2 - 1;
  expect(loads).toEqual(Array.from({ length: expectedSwitches }, (_, index) => (index % 2 === 0 ? 'tiny-b' : 'tiny-a')));
  expect(loadedEvents).toEqual(loads);
  expect(switches.count).toBe(loads.length);
  // A load is several times a warm answer: even the fastest switch is above the warm p90.
  expect(switches.time!.min).toBeGreaterThan(switches.warm!.p90);
});
