/**
 * The end-of-run race (issue 8, item 13a): with Redis a little far from the CLI, the run could
 * complete between the watcher's read of the run job and its read of the job's state, and the CLI
 * then crashed on a report that was still null. A delay proxy (10 ms each way) sits between the CLI
 * and Redis; workers talk to Redis directly. Ten distributed runs of an eight-phase plan must give
 * ten reports, each with all eight phases.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { RunReport } from '../../src/shared/run-report';
import { REPO_ROOT, runCli, spawnCli, type CliProcess } from '../helpers/cli-process';
import { startDelayProxy, type DelayProxy } from '../helpers/delay-proxy';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

// Ten runs of eight phases, two at a time, each CLI a fresh tsx process (~1-2 s to start on 2 cores): about 15 s.
jest.setTimeout(150_000);

const RUNS = 10;
const PHASES = 8;
const DELAY_MS = 10;

const workDir = mkdtempSync(join(tmpdir(), 'grym-race-'));
let redis: TestRedis;
let proxy: DelayProxy;
let mock: CliProcess;
let worker: CliProcess;

beforeAll(async () => {
  redis = await startTestRedis();
  proxy = await startDelayProxy(redis.port, DELAY_MS);
  mock = spawnCli(['mock-llm', '--port', '0', '--plan', join(REPO_ROOT, 'tests/fixtures/plans/mock-models.yaml')]);
  worker = spawnCli(['worker', '--redis', redis.url, '--prefix', 'race', '--name', 'racer', '--threads', '1', '--concurrency', '2']);
  await worker.waitFor(/ready on/);
});

afterAll(async () => {
  for (const child of [worker, mock]) child.kill('SIGTERM');
  await Promise.all([worker, mock].map((child) => Promise.race([child.exited, new Promise((r) => setTimeout(r, 10_000).unref())])));
  for (const child of [worker, mock]) child.kill('SIGKILL');
  await proxy?.close();
  await redis?.destroy();
});

function writePlan(mockUrl: string): string {
  const phase = (index: number) => ({
    name: `step-${index}`,
    scenario: 'requests',
    models: ['fast-a'],
    load: { concurrency: 1, requests: 2 },
    conversation: { turns: 2, promptTokens: 4, maxTokens: 4 },
    context: { facts: 0 },
    criteria: { 'requests.errorRate': '< 1%' },
  });
  const file = join(workDir, 'many-phases.yaml');
  const plan = {
    version: 1,
    name: 'many-phases',
    seed: 1,
    target: { baseUrl: `${mockUrl}/v1`, requestTimeout: '10s' },
    phases: Array.from({ length: PHASES }, (_, index) => phase(index)),
  };
  writeFileSync(file, stringify(plan));
  return file;
}

/** One distributed run through the proxy: its exit code, the phases its report holds, its output if it failed. */
async function runThroughProxy(plan: string, run: number): Promise<{ code: number | string; phases: number; output: string }> {
  const out = join(workDir, `run-${run}`);
  const viaProxy = `redis://127.0.0.1:${proxy.port}`;
  const result = await runCli(['run', plan, '--redis', viaProxy, '--prefix', 'race', '--out', out, '--quiet'], { timeoutMs: 60_000 });
  let phases = 0;
  try {
    phases = (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport).phases.length;
  } catch {
    // no report: the comparison below shows the run's output
  }
  return { code: result.code, phases, output: result.code === 0 ? '' : result.output };
}

test(`${RUNS} distributed runs of a ${PHASES}-phase plan through a ${DELAY_MS} ms proxy each write a full report`, async () => {
  const mockUrl = (await mock.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1] as string;
  const plan = writePlan(mockUrl);
  const outcomes = [];
  // Two at a time: half the wall time, and a busier machine only widens the window the race needs.
  for (let run = 0; run < RUNS; run += 2)
    outcomes.push(...(await Promise.all([runThroughProxy(plan, run), runThroughProxy(plan, run + 1)])));
  expect(proxy.connections()).toBeGreaterThan(0);
  expect(outcomes).toEqual(Array.from({ length: RUNS }, () => ({ code: 0, phases: PHASES, output: '' })));
});
