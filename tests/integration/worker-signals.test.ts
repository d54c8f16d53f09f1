/**
 * Stopping a worker in the middle of a shard, with real processes: a redis-server of the test's own,
 * `grym-perf worker` child processes, the mock LLM in its own process and the CLI submitting. One
 * signal lets the shard finish; a second one hands it back at once to another worker, which runs it
 * in full without waiting for a lock to expire.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import IORedis from 'ioredis';
import { stringify } from 'yaml';
import { barrierKeys, queueLayout } from '../../src/shared/queue-layout';
import type { RunReport } from '../../src/shared/run-report';
import { REPO_ROOT, spawnCli, type CliProcess } from '../helpers/cli-process';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

// Each case starts three processes (tsx start-up is ~1 s each on 2 cores) and runs a shard of several seconds.
jest.setTimeout(90_000);

const workDir = mkdtempSync(join(tmpdir(), 'grym-signals-'));
let redis: TestRedis;
let mock: CliProcess;
let mockUrl: string;
const started: CliProcess[] = [];
let prefixCounter = 0;

beforeAll(async () => {
  redis = await startTestRedis();
  mock = spawnCli(['mock-llm', '--port', '0', '--plan', join(REPO_ROOT, 'tests/fixtures/plans/mock-models.yaml')]);
  mockUrl = (await mock.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1] as string;
});

afterAll(async () => {
  for (const child of [...started, mock]) child.kill('SIGKILL');
  await Promise.all([...started, mock].map((child) => child.exited));
  await redis.destroy();
  rmSync(workDir, { recursive: true, force: true });
});

/** A plan on the mock's slow model (~0.33 s a request): `requests` at concurrency 2, in `shards` shards. */
function writePlan(name: string, requests: number, shards = 1): string {
  const file = join(workDir, `${name}.yaml`);
  const phase = {
    name: 'load',
    scenario: 'requests',
    models: ['slow-a'],
    load: { concurrency: 2, requests },
    conversation: { turns: 6, promptTokens: 8, maxTokens: 8 },
    shards,
  };
  writeFileSync(
    file,
    stringify({ version: 1, name, seed: 5, target: { baseUrl: `${mockUrl}/v1`, requestTimeout: '10s' }, phases: [phase] }),
  );
  return file;
}

function startWorker(prefix: string, name: string): CliProcess {
  const worker = spawnCli(['worker', '--redis', redis.url, '--prefix', prefix, '--name', name, '--threads', '1', '--lock-duration', '30s']);
  started.push(worker);
  return worker;
}

function submit(plan: string, prefix: string, out: string): CliProcess {
  const run = spawnCli(['run', plan, '--redis', redis.url, '--prefix', prefix, '--out', out, '--worker-wait', '1s', '--quiet']);
  started.push(run);
  return run;
}

async function mockServed(): Promise<number> {
  return ((await (await fetch(`${mockUrl}/stats`)).json()) as { generations: number }).generations;
}

/** Resolves once the mock has served `count` more requests than `from`; rejects after `timeoutMs`. */
async function untilServed(from: number, count: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await mockServed()) < from + count) {
    if (Date.now() > deadline) throw new Error(`the mock served ${(await mockServed()) - from} of ${count} requests in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The first of `processes` to print `pattern`, and the match. */
async function firstToPrint(processes: CliProcess[], pattern: RegExp, timeoutMs = 20_000): Promise<[CliProcess, RegExpMatchArray]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const child of processes) {
      const match = child.output().match(pattern);
      if (match) return [child, match];
    }
    if (Date.now() > deadline) throw new Error(`none printed ${pattern} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function readReport(dir: string): RunReport {
  return JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReport;
}

test('one SIGTERM: the worker finishes its running shard, then exits 0', async () => {
  const prefix = `sig${process.pid}x${prefixCounter++}`;
  const worker = startWorker(prefix, 'finisher');
  await worker.waitFor(/ready on/);
  const out = join(workDir, 'finished');
  const before = await mockServed();
  const run = submit(writePlan('finish-then-exit', 16), prefix, out);
  await untilServed(before, 2);
  worker.kill('SIGTERM');
  await worker.waitFor(/stopping: finishing the running shard/);
  await worker.waitFor(/ stopped\n/);
  expect(await worker.exited).toBe(0);
  // The phase's merge and the report need a live worker: the stopped one no longer takes jobs.
  const aggregator = startWorker(prefix, 'aggregator');
  await run.waitFor(/reports: /, 60_000);
  expect({ code: await run.exited, output: run.output() }).toMatchObject({ code: 0 });
  const output = worker.output();
  // The shard ended before the worker did, on this worker, in one attempt.
  expect(output.indexOf(': done, 16 ok')).toBeGreaterThan(output.indexOf('stopping'));
  expect(output.indexOf('stopped')).toBeGreaterThan(output.indexOf(': done, 16 ok'));
  const report = readReport(out);
  expect(report.phases[0]!.metrics.requests.total).toBe(16);
  expect(report.phases[0]!.shards).toEqual([expect.objectContaining({ worker: 'finisher', attempts: 1 })]);
  aggregator.kill('SIGTERM');
  expect(await aggregator.exited).toBe(0);
});

test('a second SIGTERM hands the running shard back at once: the worker exits 0 and another runs the shard in full', async () => {
  const prefix = `sig${process.pid}x${prefixCounter++}`;
  // Both ready before the run: one takes the only shard (the holder), the other waits for it (the taker).
  const workers = [startWorker(prefix, 'worker-a'), startWorker(prefix, 'worker-b')];
  await Promise.all(workers.map((worker) => worker.waitFor(/ready on/)));
  const out = join(workDir, 'handed-back');
  const before = await mockServed();
  // 48 requests, 2 at a time: about 8 s of shard, so that waiting for it cannot pass for handing it back.
  const run = submit(writePlan('hand-back', 48), prefix, out);
  const [holder, match] = await firstToPrint(workers, /shard (\S+): attempt 1/);
  const taker = workers.find((worker) => worker !== holder)!;
  const shardId = match[1]!;
  await untilServed(before, 2);

  holder.kill('SIGTERM');
  await holder.waitFor(/stopping: finishing the running shard/);
  // Still running its shard after the first signal.
  const afterFirst = await mockServed();
  await untilServed(afterFirst, 2);
  const secondAt = Date.now();
  holder.kill('SIGTERM');
  await holder.waitFor(/ stopped\n/);
  expect(await holder.exited).toBe(0);
  const exitMs = Date.now() - secondAt;
  expect(holder.output()).toContain(`shard ${shardId}: handed back`);
  expect(holder.output()).not.toMatch(/: done, /);
  await taker.waitFor(/attempt 2/);
  const takenMs = Date.now() - secondAt;

  await run.waitFor(/reports: /, 60_000);
  expect(await run.exited).toBe(0);
  const report = readReport(out);
  const [shard] = report.phases[0]!.shards;
  expect(report.phases[0]!.metrics.requests.total).toBe(48);
  expect(shard).toMatchObject({ worker: taker === workers[0] ? 'worker-a' : 'worker-b', attempts: 2 });
  // Relative to what this machine shows: the holder left in well under half the time the whole
  // shard takes (waiting for it, as before, took most of it).
  expect(exitMs).toBeLessThan(shard!.durationMs / 2);
  // Back to wait, not stalled: a stalled shard would wait for the holder's 30 s lock to expire.
  expect(takenMs).toBeLessThan(10_000);
  // Handed back is not a failed attempt: one attempt made (the completion), two started.
  const queue = new Queue('shards', { connection: { url: redis.url }, prefix: `{${prefix}}` });
  try {
    const job = await Job.fromId(queue, shardId);
    expect({ made: job!.attemptsMade, started: job!.attemptsStarted, failedReason: job!.failedReason ?? null }).toEqual({
      made: 1,
      started: 2,
      failedReason: null,
    });
  } finally {
    await queue.close();
  }
  console.log(`second SIGTERM to exit: ${exitMs} ms; to the shard's start on the other worker: ${takenMs} ms`);
  taker.kill('SIGTERM');
  expect(await taker.exited).toBe(0);
});

test('a second SIGTERM while the shard waits at the start barrier: it leaves the barrier and goes back to wait', async () => {
  const prefix = `sig${process.pid}x${prefixCounter++}`;
  const holder = startWorker(prefix, 'early');
  await holder.waitFor(/ready on/);
  const out = join(workDir, 'barrier');
  // Two shards and one worker of concurrency 1: the shard it takes waits at the barrier for the other.
  const run = submit(writePlan('barrier-hand-back', 8, 2), prefix, out);
  const [, shardId, runId] = (await holder.waitFor(/shard ((\S+)\.p0\.s\d): attempt 1, waiting at the start barrier/)) as string[];
  holder.kill('SIGTERM');
  await holder.waitFor(/stopping/);
  holder.kill('SIGTERM');
  await holder.waitFor(/ stopped\n/);
  expect(await holder.exited).toBe(0);
  expect(holder.output()).toContain(`shard ${shardId}: handed back`);

  const connection = new IORedis(redis.url);
  const queue = new Queue('shards', { connection: { url: redis.url }, prefix: `{${prefix}}` });
  try {
    // Gone from the barrier (a shard that is not running must not count as arrived), and waiting, not failed.
    expect(await connection.smembers(barrierKeys(queueLayout(prefix), runId!, 0).arrived)).toEqual([]);
    expect(await (await Job.fromId(queue, shardId!))!.getState()).toBe('waiting');
  } finally {
    connection.disconnect();
    await queue.close();
  }
  const pair = [startWorker(prefix, 'pair-a'), startWorker(prefix, 'pair-b')];
  await run.waitFor(/reports: /, 60_000);
  expect({ code: await run.exited, output: run.output() }).toMatchObject({ code: 0 });
  const report = readReport(out);
  expect(report.phases[0]!.metrics.requests.total).toBe(8);
  expect(new Set(report.phases[0]!.shards.map((shard) => shard.worker))).toEqual(new Set(['pair-a', 'pair-b']));
  for (const worker of pair) worker.kill('SIGTERM');
  expect(await Promise.all(pair.map((worker) => worker.exited))).toEqual([0, 0]);
});
