/**
 * Distributed runs with every part real: a redis-server of the test's own, `grym-perf worker`
 * child processes, the mock LLM in its own process, and the CLI submitting and reporting.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { stringify } from 'yaml';
import { runJobId } from '../../src/shared/queue-layout';
import type { RunReport } from '../../src/shared/run-report';
import { REPO_ROOT, runCli, spawnCli, type CliProcess } from '../helpers/cli-process';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

// Each case starts processes (tsx start-up is ~1 s each on 2 cores) and runs real load.
jest.setTimeout(120_000);

const workDir = mkdtempSync(join(tmpdir(), 'grym-dist-'));
// Redis asks for a password, as a team's would: no output may ever show it.
const REDIS_PASSWORD = 'dist-test-redis-secret';
let redis: TestRedis;
let mock: CliProcess;
let mockUrl: string;
const started: CliProcess[] = [];
let prefixCounter = 0;

function uniquePrefix(): string {
  return `t${process.pid}x${prefixCounter++}`;
}

function writePlan(name: string, phases: unknown[]): string {
  const file = join(workDir, `${name}.yaml`);
  const plan = {
    version: 1,
    name,
    seed: 5,
    target: { baseUrl: `${mockUrl}/v1`, requestTimeout: '10s', memory: { source: 'ollama-ps', url: mockUrl } },
    phases,
  };
  writeFileSync(file, stringify(plan));
  return file;
}

function startWorker(prefix: string, name: string, extra: string[] = []): CliProcess {
  const worker = spawnCli(['worker', '--redis', redis.url, '--prefix', prefix, '--name', name, '--threads', '1', ...extra]);
  started.push(worker);
  return worker;
}

function readReport(dir: string): RunReport {
  return JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReport;
}

async function stopAll(processes: CliProcess[]): Promise<void> {
  for (const child of processes) child.kill('SIGTERM');
  await Promise.all(processes.map((child) => Promise.race([child.exited, new Promise((r) => setTimeout(r, 15_000).unref())])));
  for (const child of processes) child.kill('SIGKILL');
}

/** Generation requests the mock has taken so far (its own counter). */
async function mockServed(): Promise<number> {
  return ((await (await fetch(`${mockUrl}/stats`)).json()) as { generations: number }).generations;
}

/** Resolves once the mock has served `count` more requests than `from`: the run is under way. */
async function untilServed(from: number, count: number): Promise<void> {
  while ((await mockServed()) < from + count) await new Promise((resolve) => setTimeout(resolve, 25));
}

/** Resolves when a run's aggregate job has finished, from BullMQ's own events. */
async function untilRunFinished(prefix: string, runId: string): Promise<void> {
  const connection = { url: redis.url };
  const runs = new Queue('runs', { connection, prefix: `{${prefix}}` });
  const events = new QueueEvents('runs', { connection, prefix: `{${prefix}}` });
  try {
    await events.waitUntilReady();
    const job = await Job.fromId(runs, runJobId(runId));
    await job!.waitUntilFinished(events, 60_000);
  } finally {
    await events.close();
    await runs.close();
  }
}

beforeAll(async () => {
  redis = await startTestRedis({ persistent: true, password: REDIS_PASSWORD });
  mock = spawnCli(['mock-llm', '--port', '0', '--plan', join(REPO_ROOT, 'tests/fixtures/plans/mock-models.yaml')]);
  mockUrl = (await mock.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1] as string;
});

afterAll(async () => {
  await stopAll([...started, mock]);
  await redis.destroy();
});

const requestsPhase = (overrides: Record<string, unknown> = {}) => ({
  name: 'load',
  scenario: 'requests',
  models: ['fast-a'],
  load: { concurrency: 4, requests: 40 },
  conversation: { turns: 6, promptTokens: 8, maxTokens: 8 },
  context: { facts: 2, minDistance: 2 },
  shards: 2,
  criteria: { 'latency.e2e.p95': '< 2s', 'requests.errorRate': '< 1%' },
  ...overrides,
});

const switchPhase = {
  name: 'switch',
  scenario: 'model-switch',
  models: ['fast-a', 'fast-b'],
  switch: { cycles: 2, requestsPerModel: 3 },
  conversation: { turns: 12, promptTokens: 8, maxTokens: 8 },
  context: { facts: 2, minDistance: 3 },
  criteria: { 'switch.time.p95': '< 2s' },
};

test('a plan run locally and distributed (2 workers, shards: 2) gives reports of the same shape and the same request counts', async () => {
  const prefix = uniquePrefix();
  const plan = writePlan('same-plan', [requestsPhase(), switchPhase]);
  const workers = [startWorker(prefix, 'w1'), startWorker(prefix, 'w2')];
  await Promise.all(workers.map((worker) => worker.waitFor(/ready on/)));

  const localOut = join(workDir, 'local');
  const distOut = join(workDir, 'dist');
  const exportsTo = (dir: string) => ['--csv', dir, '--requests', join(dir, 'requests.jsonl')];
  const local = await runCli(['run', plan, '--out', localOut, '--quiet', ...exportsTo(localOut)]);
  const distributed = await runCli([
    'run',
    plan,
    '--out',
    distOut,
    '--quiet',
    '--redis',
    redis.url,
    '--prefix',
    prefix,
    ...exportsTo(distOut),
  ]);
  expect(local.code).toBe(0);
  expect(distributed.code).toBe(0);
  expect(distributed.output).toMatch(/run same-plan-\S+ submitted/);
  for (const output of [distributed.output, ...workers.map((worker) => worker.output())]) {
    expect(output).toContain('***@127.0.0.1');
    expect(output).not.toContain(REDIS_PASSWORD);
  }

  const a = readReport(localOut);
  const b = readReport(distOut);
  expect(b.mode).toBe('distributed');
  expect(b.phases.map((p) => p.name)).toEqual(a.phases.map((p) => p.name));
  expect(Object.keys(b.phases[0]!.metrics).sort()).toEqual(Object.keys(a.phases[0]!.metrics).sort());
  expect(b.phases.map((p) => p.criteria.map((c) => c.metric))).toEqual(a.phases.map((p) => p.criteria.map((c) => c.metric)));
  for (const index of [0, 1]) {
    expect(b.phases[index]!.metrics.requests.total).toBe(a.phases[index]!.metrics.requests.total);
    expect(b.phases[index]!.metrics.context.probes).toBe(a.phases[index]!.metrics.context.probes);
  }
  expect(a.phases[0]!.metrics.requests.total).toBe(40);
  // Two shards on two different workers, merged into one phase.
  expect(new Set(b.phases[0]!.shards.map((s) => s.worker))).toEqual(new Set(['w1', 'w2']));
  expect(b.phases[1]!.metrics.switch.count).toBe(a.phases[1]!.metrics.switch.count);
  // The exports have the same shape, and the request log came back from both workers through Redis.
  for (const dir of [localOut, distOut]) {
    expect(readFileSync(join(dir, 'windows.csv'), 'utf8').split('\n')[0]).toMatch(/^phase,window_start_ms,/);
    const requests = readFileSync(join(dir, 'requests.jsonl'), 'utf8').trim().split('\n');
    expect(requests).toHaveLength(a.phases[0]!.metrics.requests.total + a.phases[1]!.metrics.requests.total);
  }
  const shardsLogged = readFileSync(join(distOut, 'requests.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { shard: number }).shard);
  expect(new Set(shardsLogged)).toEqual(new Set([0, 1]));
  // The start barrier: both shards sent their first request within 100 ms of each other.
  const [first, second] = b.phases[0]!.shards.map((shard) => shard.firstRequestAtMs as number);
  expect(Math.abs(first! - second!)).toBeLessThan(100);
  // SIGTERM: a worker stops taking jobs and exits cleanly.
  for (const worker of workers) worker.kill('SIGTERM');
  expect(await Promise.all(workers.map((worker) => worker.exited))).toEqual([0, 0]);
});

test('run says within seconds that no worker listens, and queues nothing', async () => {
  const prefix = uniquePrefix();
  const plan = writePlan('no-workers', [requestsPhase({ shards: 1 })]);
  const startedAt = Date.now();
  const result = await runCli([
    'run',
    plan,
    '--redis',
    redis.url,
    '--prefix',
    prefix,
    '--out',
    join(workDir, 'none'),
    '--worker-wait',
    '1s',
  ]);
  expect(result.code).toBe(3);
  expect(result.output).toContain('no grym-perf worker is listening');
  expect(Date.now() - startedAt).toBeLessThan(20_000);
  // Nothing was queued: there is no run to report on.
  const missing = await runCli(['report', 'no-such-run', '--redis', redis.url, '--prefix', prefix]);
  expect(missing.code).toBe(2);
  expect(missing.output).toContain('run no-such-run is not in Redis');
});

test('a worker killed with SIGKILL mid-shard: the shard runs again elsewhere, the report records the retry and counts no request twice', async () => {
  const prefix = uniquePrefix();
  // 30 requests at ~0.3 s each over 2 conversations: long enough to be killed in the middle.
  const plan = writePlan('killed-worker', [
    requestsPhase({ models: ['slow-a'], load: { concurrency: 2, requests: 30 }, shards: 1, context: { facts: 0 } }),
  ]);
  const doomed = startWorker(prefix, 'doomed', ['--lock-duration', '2s']);
  await doomed.waitFor(/ready on/);
  const out = join(workDir, 'killed');
  const servedBefore = await mockServed();
  const run = spawnCli(['run', plan, '--redis', redis.url, '--prefix', prefix, '--out', out]);
  started.push(run);
  // Killed mid-shard: once the mock has served a few of its 30 requests. The rescuer starts only
  // then: started before, a worker slow to get ready on a busy machine let the doomed one finish.
  await untilServed(servedBefore, 6);
  doomed.kill('SIGKILL');
  const rescuer = startWorker(prefix, 'rescuer', ['--lock-duration', '2s']);
  await rescuer.waitFor(/ready on/);
  expect(await run.exited).toBe(0);
  const report = readReport(out);
  expect(report.phases[0]!.shards).toEqual([expect.objectContaining({ worker: 'rescuer', attempts: 2 })]);
  expect(report.phases[0]!.metrics.requests.total).toBe(30);
  await stopAll([rescuer]);
});

test('the submitting CLI killed mid-run: the run still completes and `grym-perf report` gets it', async () => {
  const prefix = uniquePrefix();
  const plan = writePlan('cli-killed', [requestsPhase({ models: ['slow-a'], load: { concurrency: 2, requests: 16 }, shards: 1 })]);
  const worker = startWorker(prefix, 'survivor');
  await worker.waitFor(/ready on/);
  const run = spawnCli([
    'run',
    plan,
    '--redis',
    redis.url,
    '--prefix',
    prefix,
    '--out',
    join(workDir, 'never'),
    '--run-id',
    'cli-killed-1',
  ]);
  const runId = (await run.waitFor(/run (\S+) submitted/))[1] as string;
  expect(runId).toBe('cli-killed-1');
  run.kill('SIGKILL');
  await run.exited;
  // Submitting the same run id again is a no-op: the run is not queued twice.
  const again = await runCli(['run', plan, '--redis', redis.url, '--prefix', prefix, '--run-id', runId, '--detach']);
  expect(again.code).toBe(0);

  const out = join(workDir, 'fetched');
  await untilRunFinished(prefix, runId);
  const result = await runCli(['report', runId, '--redis', redis.url, '--prefix', prefix, '--out', out]);
  expect(result.code).toBe(0);
  expect(readReport(out).runId).toBe(runId);
  expect(readReport(out).phases[0]!.metrics.requests.total).toBe(16);
  await stopAll([worker]);
});

test('report says where an unfinished run is (exit 4), --wait writes it at its end; "events" is a plain run id', async () => {
  const prefix = uniquePrefix();
  // The first phase lasts 6 s, long enough for two more CLIs to start (2-3 s each on a busy 2-core machine) and ask about it.
  const plan = writePlan('unfinished', [
    requestsPhase({ name: 'first', models: ['slow-a'], load: { concurrency: 1, duration: '6s' }, shards: 1, criteria: {} }),
    requestsPhase({ name: 'second', load: { concurrency: 2, requests: 4 }, shards: 1 }),
  ]);
  const worker = startWorker(prefix, 'patient');
  await worker.waitFor(/ready on/);
  const redisArgs = ['--redis', redis.url, '--prefix', prefix];
  // "events", "meta" and "id" are BullMQ's own keys beside the job keys: as run ids they are ordinary.
  // --requests-max keeps a request sample for `report --requests`.
  const submitted = await runCli(['run', plan, ...redisArgs, '--run-id', 'events', '--detach', '--requests-max', '3']);
  expect(submitted).toMatchObject({ code: 0, output: expect.stringContaining('run events submitted') });
  // Started while the run still runs: it says where the run is, then writes the reports at its end.
  const out = join(workDir, 'waited');
  const waiting = spawnCli(['report', 'events', ...redisArgs, '--wait', '--out', out, '--requests', join(out, 'requests.jsonl')]);
  started.push(waiting);
  const early = await runCli(['report', 'events', ...redisArgs, '--out', join(workDir, 'early')]);
  expect(early.code).toBe(4);
  expect(early.output).toMatch(
    /run events is (queued, waiting for a worker|running phase \d of 2 \(\w+\)|aggregating its report): wait for it: .* --wait/,
  );
  expect(early.output).not.toContain('waiting-children');
  for (const missing of ['meta', 'id', '12345']) {
    const result = await runCli(['report', missing, ...redisArgs], { timeoutMs: 30_000 });
    expect({ missing, code: result.code, output: result.output }).toMatchObject({
      code: 2,
      output: expect.stringContaining('is not in Redis'),
    });
  }
  expect(await waiting.exited).toBe(0);
  // Its first word on the run was said before the run ended.
  expect(waiting.output()).toMatch(/^run events: (queued|running phase|aggregating)/);
  expect(readReport(out).runId).toBe('events');
  expect(readReport(out).phases.map((phase) => phase.name)).toEqual(['first', 'second']);
  const logged = readFileSync(join(out, 'requests.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { phase: string; weight: number });
  // The second phase (4 requests, 2 threads) keeps 3 or 4 of them; their weights add up to the 4 sent.
  const second = logged.filter((line) => line.phase === 'second');
  expect(second.length).toBeGreaterThanOrEqual(3);
  expect(second.reduce((total, line) => total + line.weight, 0)).toBeCloseTo(4, 6);
  await stopAll([worker]);
});

test('Redis restarted during a run: workers and the CLI reconnect and the run completes', async () => {
  const prefix = uniquePrefix();
  const plan = writePlan('redis-restart', [
    requestsPhase({ models: ['slow-a'], load: { concurrency: 2, requests: 24 }, shards: 1, context: { facts: 0 } }),
  ]);
  const worker = startWorker(prefix, 'steady', ['--lock-duration', '3s']);
  await worker.waitFor(/ready on/);
  const out = join(workDir, 'restart');
  const run = spawnCli(['run', plan, '--redis', redis.url, '--prefix', prefix, '--out', out]);
  started.push(run);
  await worker.waitFor(/attempt 1/);
  // Redis goes away for a moment (its clients see refused connections), then comes back with its data.
  await redis.stop();
  await redis.start();
  const code = await run.exited;
  expect({ code, output: run.output() }).toMatchObject({ code: 0 });
  expect(readReport(out).phases[0]!.metrics.requests.total).toBe(24);
  await stopAll([worker]);
});

test('shards that cannot all start fail the phase with a clear error instead of waiting forever', async () => {
  const prefix = uniquePrefix();
  const plan = writePlan('lonely-shard', [requestsPhase({ load: { concurrency: 2, requests: 10 }, shards: 2 })]);
  const worker = startWorker(prefix, 'lonely');
  await worker.waitFor(/ready on/);
  const out = join(workDir, 'lonely');
  const result = await runCli(['run', plan, '--redis', redis.url, '--prefix', prefix, '--out', out, '--barrier-timeout', '2s']);
  expect({ code: result.code, output: result.output }).toMatchObject({ code: 1 });
  const report = readReport(out);
  expect(report.passed).toBe(false);
  expect(JSON.stringify(report.phases[0])).toContain('shards found a worker');
  await stopAll([worker]);
});

test('grym-perf dashboard refuses a public address without credentials and asks for them on loopback', async () => {
  const env = { GRYM_REDIS_URL: redis.url, GRYM_DASHBOARD_USER: '', GRYM_DASHBOARD_PASSWORD: '' };
  const refused = await runCli(['dashboard', '--host', '0.0.0.0', '--port', '0', '--no-aggregate'], { env });
  expect(refused.code).toBe(2);
  expect(refused.output).toContain('set GRYM_DASHBOARD_USER and GRYM_DASHBOARD_PASSWORD');

  const served = spawnCli(['dashboard', '--port', '0', '--prefix', uniquePrefix()], {
    env: { ...env, GRYM_DASHBOARD_USER: 'u', GRYM_DASHBOARD_PASSWORD: 'p' },
  });
  started.push(served);
  const url = (await served.waitFor(/dashboard on (http:\/\/127\.0\.0\.1:\d+)/))[1] as string;
  expect(served.output()).toContain('password protected');
  expect((await fetch(`${url}/runs`)).status).toBe(401);
  expect((await fetch(`${url}/runs`, { headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } })).status).toBe(200);
  served.kill('SIGTERM');
  expect(await served.exited).toBe(0);
});
