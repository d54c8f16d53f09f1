/**
 * No false connection errors against a healthy server. llama-server answers `Keep-Alive:
 * timeout=5` but closes the connection right after every streamed answer; a client that reuses
 * that socket for its next request races the close and loses ("other side closed"). The server
 * never failed a request here: a plain client with a fresh connection per request loses none at
 * the same concurrency (the control). So every error grym-perf counts in these phases is its own,
 * and each phase must have none, of any class.
 *
 * grym-perf's undici Pool used to count `connection_reset` on 2-40 % of requests; a request whose
 * reused socket closes before any response byte is now sent once more on a fresh connection and
 * counted as churn. The figures (failure rate, retries and connections per concurrency) are
 * recorded before the assertions.
 */
import { createLocalExecutor } from '../../src/worker';
import type { PlanInput } from '../../src/shared/plan-schema';
import { startLlamaServer, type TestLlamaServer } from '../helpers/llama-server';
import { recordFigures } from './helpers/record-figures';
import { plainStream } from './helpers/plain-stream';
import { runPhase } from './helpers/run-phase';
import { logLinesWhen, serverTimings } from './helpers/server-log';

/** Per concurrency: 3 x 150 = 450 streamed requests, 2-4 s a phase (8 output tokens each). */
const REQUESTS = 150;

let server: TestLlamaServer;
const executor = createLocalExecutor({ threads: 1 });

beforeAll(async () => {
  server = await startLlamaServer({ model: 'tiny-a' });
});

afterAll(async () => {
  await executor.close();
  await server?.stop();
});

function streamedPlan(concurrency: number): PlanInput {
  return {
    name: `connections-c${concurrency}`,
    target: { kind: 'openai', baseUrl: `${server.url}/v1`, stream: true },
    phases: [
      {
        name: `c${concurrency}`,
        scenario: 'requests',
        models: ['tiny-a'],
        load: { concurrency, requests: REQUESTS, duration: '60s' },
        conversation: { turns: 4, promptTokens: 16, maxTokens: 8 },
        // Off: a run of false errors must not end the phase early, the test wants the whole rate.
        abort: { connectionFailures: 0 },
      },
    ],
  };
}

/** The control: `count` streamed requests on fresh connections, `concurrency` at a time; how many failed and why. */
async function plainFailures(concurrency: number, count: number): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const loop = async () => {
    while (next < count) {
      const index = next++;
      const messages = [{ role: 'user', content: `control request ${index}: say something` }];
      await plainStream(server.port, { model: 'tiny-a', messages, max_tokens: 8 }).catch((error: Error) => failures.push(error.message));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return failures;
}

test.each([1, 4, 8])(
  `concurrency %i: ${REQUESTS} streamed requests, zero errors of any class (the server lost none)`,
  async (concurrency) => {
    const controlMark = server.lineCount();
    const control = await plainFailures(concurrency, REQUESTS);
    // The server logs a request's timings as it sends its last bytes: let the control's land before the phase's mark.
    await logLinesWhen(server, controlMark, (lines) => serverTimings(lines).length >= REQUESTS - control.length);
    const mark = server.lineCount();
    const report = await runPhase(executor, streamedPlan(concurrency));
    const { total, ok, errors, byClass, samples } = report.metrics.requests;
    const finished = serverTimings(await logLinesWhen(server, mark, (lines) => serverTimings(lines).length >= ok)).length;
    recordFigures(`connection-errors-c${concurrency}`, {
      concurrency,
      requests: total,
      errors,
      errorRatePercent: Math.round((errors / total) * 1000) / 10,
      byClass,
      samples,
      // Equal to `ok` when the requests counted as failed never reached the server (a retry of them is then safe).
      serverFinished: finished,
      stability: report.metrics.stability.value,
      phasePassed: report.passed,
      plainControlFailures: control.length,
      connections: report.metrics.connections,
    });

    expect(control).toEqual([]);
    expect(total).toBe(REQUESTS);
    expect(byClass).toEqual({});
    expect(ok).toBe(REQUESTS);
    expect(finished).toBe(REQUESTS);
    // The server closes every streamed connection: each request needs a connection of its own, and
    // the churn is counted (a request retried after losing the race opened one more).
    expect(report.metrics.connections!.opened).toBeGreaterThanOrEqual(REQUESTS);
  },
);
