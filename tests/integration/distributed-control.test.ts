/**
 * Global control of a distributed phase, every part real: a redis-server of the test's own,
 * `grym-perf worker` child processes, the submitting CLI, and a target server in this process that
 * logs when each request arrives and each answer leaves (its own clock is the truth the stop is
 * measured against):
 * - abort conditions judged on all shards together stop every shard within a second or two, and
 *   the report says which condition held and when;
 * - one shard's own condition stops its siblings on other workers;
 * - workers whose clocks are wrong by seconds still start together and their windows line up,
 *   because each measures its offset from Redis `TIME` at the start barrier.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import IORedis from 'ioredis';
import { stringify } from 'yaml';
import { barrierKeys, queueLayout, shardJobId } from '../../src/shared/queue-layout';
import type { RunReport } from '../../src/shared/run-report';
import type { RequestLogEntry, ShardResult } from '../../src/shared/shard-result';
import { REPO_ROOT, runCli, spawnCli, type CliProcess } from '../helpers/cli-process';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

// Worker processes start through tsx (1-2 s each on 2 busy cores), then each case runs real load for a few seconds.
jest.setTimeout(120_000);

const workDir = mkdtempSync(join(tmpdir(), 'grym-control-'));
const SKEWED_CLOCK = join(REPO_ROOT, 'tests', 'helpers', 'skewed-clock.js');
let redis: TestRedis;
let targetUrl: string;
const started: CliProcess[] = [];
let prefixCounter = 0;

/** What the target saw, on this process's clock (the machine's true one). */
interface Exchange {
  model: string;
  arrivedMs: number;
  answeredMs: number | null;
  status: number;
}
let log: Exchange[] = [];

/** ok: 200 after 25 ms; slow-fail: 500 after 100 ms (at most 10 a second per conversation); fail-fast: 500 at once. */
async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const arrivedMs = Date.now();
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const { model } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string };
  const exchange: Exchange = { model, arrivedMs, answeredMs: null, status: model === 'ok' ? 200 : 500 };
  log.push(exchange);
  const reply = () => {
    if (response.destroyed) return;
    exchange.answeredMs = Date.now();
    if (exchange.status === 200) {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ choices: [{ message: { content: 'fine' } }], usage: { prompt_tokens: 1, completion_tokens: 1 } }));
    } else {
      response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"model crashed"}}');
    }
  };
  if (model === 'fail-fast') return reply();
  const timer = setTimeout(reply, model === 'slow-fail' ? 100 : 25);
  response.on('close', () => clearTimeout(timer));
}

const server = createServer((request, response) => void answer(request, response).catch(() => request.socket.destroy()));

function uniquePrefix(): string {
  return `c${process.pid}x${prefixCounter++}`;
}

function writePlan(name: string, phase: Record<string, unknown>): string {
  const file = join(workDir, `${name}.yaml`);
  const plan = {
    version: 1,
    name,
    seed: 3,
    target: { baseUrl: `${targetUrl}/v1`, stream: false, requestTimeout: '10s', memory: { source: 'none' } },
    phases: [{ name: 'load', scenario: 'requests', conversation: { turns: 100, promptTokens: 4, maxTokens: 4 }, ...phase }],
  };
  writeFileSync(file, stringify(plan));
  return file;
}

function startWorker(prefix: string, name: string, env: NodeJS.ProcessEnv = {}): CliProcess {
  const worker = spawnCli(['worker', '--redis', redis.url, '--prefix', prefix, '--name', name, '--threads', '1', '--concurrency', '2'], {
    env,
  });
  started.push(worker);
  return worker;
}

async function stopAll(processes: CliProcess[]): Promise<void> {
  for (const child of processes) child.kill('SIGTERM');
  await Promise.all(processes.map((child) => Promise.race([child.exited, new Promise((r) => setTimeout(r, 15_000).unref())])));
  for (const child of processes) child.kill('SIGKILL');
}

async function runPlan(plan: string, prefix: string, out: string, extra: string[] = []) {
  const result = await runCli(['run', plan, '--redis', redis.url, '--prefix', prefix, '--out', out, '--quiet', ...extra]);
  return { ...result, report: JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport };
}

beforeAll(async () => {
  redis = await startTestRedis();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  targetUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  log = [];
});

afterAll(async () => {
  await stopAll(started);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await redis.destroy();
});

test('an error rate judged on all shards together stops every shard within a second or two, with the CLI detached and the guard moved to another worker; the report says which and when', async () => {
  const prefix = uniquePrefix();
  const workers = [startWorker(prefix, 'wa'), startWorker(prefix, 'wb')];
  await Promise.all(workers.map((worker) => worker.waitFor(/ready on/)));
  // Four shards of one conversation each, every answer a 500 after 100 ms: at most 100 requests per shard in the
  // 10 s window, so only the phase as a whole can reach minRequests (120), after about 3 s.
  const plan = writePlan('phase-rate', {
    models: ['slow-fail'],
    load: { concurrency: 4, duration: '60s' },
    shards: 4,
    abort: { connectionFailures: 0, errorRate: { above: '50%', window: '10s', minRequests: 120 } },
  });
  const redisArgs = ['--redis', redis.url, '--prefix', prefix];
  // Detached: no CLI follows the run; the guard lives with the phase job on a worker's control worker.
  const submitted = await runCli(['run', plan, ...redisArgs, '--run-id', 'phase-rate-1', '--detach']);
  expect(submitted.code).toBe(0);
  // The worker whose control worker holds the phase job stops (SIGTERM) once load flows: it hands the guard on.
  const holder = await Promise.race(
    workers.map((worker) => worker.waitFor(/phase load of phase-rate-1: starting 4 shard/).then(() => worker)),
  );
  while (log.length < 20) await new Promise((resolve) => setTimeout(resolve, 20));
  holder.kill('SIGTERM');
  await holder.waitFor(/guard handed on/);
  const out = join(workDir, 'phase-rate');
  const waited = await runCli(['report', 'phase-rate-1', ...redisArgs, '--wait', '--out', out]);
  expect({ code: waited.code, output: waited.output }).toMatchObject({ code: 1 });
  // The holder finished its shards (stopped with the phase) and exited; the other worker's control worker guarded on.
  expect(await holder.exited).toBe(0);
  const other = workers.find((worker) => worker !== holder)!;
  expect(other.output()).toMatch(/phase load of phase-rate-1: stopped early: error rate .* all 4 shards together/);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  const phase = report.phases[0]!;
  expect(phase.shards).toHaveLength(4);
  const stopped = phase.metrics.stopped!;
  const reason =
    /^error rate 100% over the last 10 s, above 50% \((\d+) of \1 requests failed; http_500: .*model crashed.*\), all 4 shards together$/.exec(
      stopped.reason,
    );
  expect({ reason: stopped.reason, matched: reason !== null }).toMatchObject({ matched: true });
  expect(Number(reason![1])).toBeGreaterThanOrEqual(120);

  // When the condition truly held: the target's 120th failed answer (all answers fail, all within the first 10 s).
  const answered = log
    .map((exchange) => exchange.answeredMs)
    .filter((ms): ms is number => ms !== null)
    .sort((a, b) => a - b);
  const heldMs = answered[119]!;
  const lastArrivalMs = Math.max(...log.map((exchange) => exchange.arrivedMs));
  const detectedAfterMs = stopped.atMs - heldMs;
  const stoppedAfterMs = lastArrivalMs - heldMs;
  console.log(
    `phase-wide error rate: held at the target's answer #120; judged ${detectedAfterMs} ms later, ` +
      `last request arrived ${stoppedAfterMs} ms later (${log.length} requests in all, ${stopped.reason})`,
  );
  // The report's time is the guard's judgment on the run clock (Redis TIME, the machine's own here): after the
  // condition held (a client counts an answer after the target sent it), and within a second (two 250 ms ticks + slots).
  expect(detectedAfterMs).toBeGreaterThanOrEqual(-5);
  expect(detectedAfterMs).toBeLessThan(1500);
  // Every shard on both workers stopped sending within two seconds of the condition holding (the bound);
  // without the phase-wide stop they would send for the whole 60 s.
  expect(stoppedAfterMs).toBeLessThan(2000);
  expect(new Set(phase.shards.map((shard) => shard.worker))).toEqual(new Set(['wa', 'wb']));
  await stopAll(workers);
});

test("one shard's own condition stops its sibling on another worker, and both report it by the shard's name", async () => {
  const prefix = uniquePrefix();
  const workers = [startWorker(prefix, 'w1'), startWorker(prefix, 'w2')];
  await Promise.all(workers.map((worker) => worker.waitFor(/ready on/)));
  // Five conversations over two shards: shard 1 holds conversations ok, ok, fail-fast; shard 2 holds ok, ok.
  // Only shard 1 ever sees 5 failures in a row; shard 2 never fails.
  const plan = writePlan('own-trip', {
    models: ['ok', 'ok', 'fail-fast'],
    load: { concurrency: 5, duration: '60s' },
    shards: 2,
    abort: { consecutiveFailures: 5 },
  });
  const { code, report } = await runPlan(plan, prefix, join(workDir, 'own-trip'));
  expect(code).toBe(1);
  const stopped = report.phases[0]!.metrics.stopped!;
  expect(stopped.reason).toMatch(/^5 consecutive failed requests \(http_500: .*model crashed.*\), on shard 1 of 2 \((w1|w2)\)$/);
  const lastOkArrivalMs = Math.max(...log.filter((exchange) => exchange.model === 'ok').map((exchange) => exchange.arrivedMs));
  console.log(`one shard's own stop: the last request of any shard arrived ${lastOkArrivalMs - stopped.atMs} ms after it`);
  // The healthy shard heard of it at its next exchange (every 250 ms) and stopped: well under a second, not 60 s.
  expect(lastOkArrivalMs - stopped.atMs).toBeLessThan(1000);
  await stopAll(workers);
});

test("workers whose clocks are seconds off start together, and their windows and requests line up on the run's clock", async () => {
  const prefix = uniquePrefix();
  const skews = { ahead: 4000, behind: -3000 };
  const workers = Object.entries(skews).map(([name, skewMs]) =>
    startWorker(prefix, name, { NODE_OPTIONS: `--require ${SKEWED_CLOCK}`, GRYM_TEST_CLOCK_SKEW_MS: String(skewMs) }),
  );
  await Promise.all(workers.map((worker) => worker.waitFor(/ready on/)));
  const plan = writePlan('skewed', { models: ['ok'], load: { concurrency: 2, duration: '3s' }, shards: 2 });
  const out = join(workDir, 'skewed');
  const { code, output, report } = await runPlan(plan, prefix, out, ['--run-id', 'skewed-1', '--requests', join(out, 'requests.jsonl')]);
  expect({ code, output }).toMatchObject({ code: 0 });
  const phase = report.phases[0]!;

  // Each worker measured its own offset: the skew, the other way round (within a few ms on loopback).
  const offsets = Object.fromEntries(phase.shards.map((shard) => [shard.worker, shard.clockOffsetMs]));
  console.log(`clock offsets measured at the start barrier: ${JSON.stringify(offsets)} (skews injected: ${JSON.stringify(skews)})`);
  expect(Math.abs(offsets.ahead! + skews.ahead)).toBeLessThanOrEqual(5);
  expect(Math.abs(offsets.behind! + skews.behind)).toBeLessThanOrEqual(5);

  // Every shard's windows count from the phase's start as the barrier set it on the run clock: the same origin, exactly.
  const connection = new IORedis(redis.url);
  const shards = new Queue('shards', { connection, prefix: queueLayout(prefix).prefix });
  try {
    const startMs = Number(await connection.get(barrierKeys(queueLayout(prefix), 'skewed-1', 0).start));
    const results = await Promise.all(
      [0, 1].map(async (index) => (await Job.fromId(shards, shardJobId('skewed-1', 0, index)))!.returnvalue as ShardResult),
    );
    expect(results.map((result) => result.series.originEpochMs)).toEqual([startMs, startMs]);
    // Both shards' first requests went out at the start, on the machine's true clock (the target's).
    for (const result of results) expect(Math.abs(result.firstStartMs! - startMs)).toBeLessThan(100);
    const firstArrivalMs = Math.min(...log.map((exchange) => exchange.arrivedMs));
    expect(Math.abs(firstArrivalMs - startMs)).toBeLessThan(100);
    // Merged, the windows hold every request once, within the 3 s the phase ran (not spread over 7 s of skew).
    const windows = phase.metrics.timeline.points;
    expect(windows.reduce((sum, window) => sum + window.ok + window.errors, 0)).toBe(phase.metrics.requests.total);
    expect(windows.length).toBeLessThanOrEqual(4);
  } finally {
    await shards.close();
    connection.disconnect();
  }
  // Every request as logged (sent time on the run clock) has its arrival at the target within a few ms: sorted, pairwise.
  const sent = readFileSync(join(out, 'requests.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as RequestLogEntry).startMs)
    .sort((a, b) => a - b);
  const arrived = log.map((exchange) => exchange.arrivedMs).sort((a, b) => a - b);
  expect(sent).toHaveLength(arrived.length);
  const worstMs = Math.max(...sent.map((ms, index) => Math.abs(arrived[index]! - ms)));
  console.log(`${sent.length} requests: worst gap between logged send time and arrival at the target ${worstMs.toFixed(1)} ms`);
  // 50 ms: a send and its arrival on loopback are a millisecond apart, a busy 2-core machine adds some; the skews are 3-4 s.
  expect(worstMs).toBeLessThan(50);
  await stopAll(workers);
});
