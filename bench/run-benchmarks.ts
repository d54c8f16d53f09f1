/**
 * Benchmarks of grym-perf itself (`npm run bench`, compiled code, loopback only, bounded in time):
 * 1. requests/s that one worker thread drives against the mock, and who is the bottleneck;
 * 2. the harness's memory per request in flight;
 * 3. distributed: time from submitting a run to its first request with warm workers, and
 *    throughput with 1 and 2 worker processes;
 * 4-5. the time series: bytes per window on a one-hour phase, and recording cost with windows on and off;
 * 6. the time to first token grym-perf adds over a plain fetch loop, at concurrency 1, 4 and 16;
 * 7-11. one worker thread against autocannon, pinned apart from a lean server: CPU per request and
 *    per token, latency error against the server's own timing, RSS per stream, launch time.
 * The mock runs in its own process, so that the harness is measured and not the mock.
 * `npm run bench -- added-ttft` (or throughput, memory, distributed, windows, generator) runs one section.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { request } from 'undici';
import { stringify } from 'yaml';
import { submitRun, watchRun } from '../src/coordinator/distributed';
import { computePhaseMetrics } from '../src/coordinator/metrics/compute-phase-metrics';
import { resolveTarget } from '../src/coordinator/resolve-target';
import { shardTasks } from '../src/coordinator/shard-tasks';
import { readPlan, type LoadedPlan } from '../src/shared/parse-plan';
import { mergeShardResults } from '../src/shared/shard-result';
import { createLocalExecutor } from '../src/worker';
import { addedTtft } from './added-ttft';
import { generatorCost } from './generator-cost';
import { windowCosts } from './window-costs';

const CLI = join(__dirname, '..', 'src', 'cli.js');
const work = mkdtempSync(join(tmpdir(), 'grym-bench-'));
const children: ChildProcess[] = [];

function startCli(args: string[]): { child: ChildProcess; waitFor(pattern: RegExp): Promise<RegExpMatchArray> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    child,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timeout waiting for ${pattern}: ${output}`)), 30_000);
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            clearTimeout(timer);
            resolve(match);
          }
        };
        waiters.push(check);
        check();
      }),
  };
}

/** CPU seconds a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function startMock(models: unknown[]): Promise<{ url: string; pid: number }> {
  const file = join(work, `mock-${Date.now()}.yaml`);
  writeFileSync(
    file,
    stringify({
      name: 'bench-mock',
      target: { mock: { models } },
      phases: [{ name: 'unused', scenario: 'requests', models: [(models[0] as { name: string }).name], load: { requests: 1 } }],
    }),
  );
  const mock = startCli(['mock-llm', '--port', '0', '--plan', file]);
  const url = (await mock.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1] as string;
  return { url, pid: mock.child.pid as number };
}

function planFor(url: string, phase: Record<string, unknown>): LoadedPlan {
  return readPlan(
    stringify({
      name: 'bench',
      target: { baseUrl: `${url}/v1`, requestTimeout: '30s', memory: { source: 'ollama-ps', url } },
      phases: [{ name: 'bench', scenario: 'requests', ...phase }],
    }),
  );
}

async function throughputOfOneThread(): Promise<void> {
  // A mock as fast as it can be: no load, no time to first token, one output token.
  const mock = await startMock([{ name: 'instant', ttft: '0ms', tokensPerSecond: 1_000_000, loadTime: '0ms' }]);
  const loaded = planFor(mock.url, {
    models: ['instant'],
    load: { concurrency: 64, duration: '10s', warmup: '1s' },
    conversation: { turns: 4, promptTokens: 8, maxTokens: 1 },
  });
  const executor = createLocalExecutor({ threads: 1 });
  const served = async () => ((await (await request(`${mock.url}/stats`)).body.json()) as { requests: number }).requests;
  const servedBefore = await served();
  const cpuBefore = { harness: process.cpuUsage(), mock: cpuSeconds(mock.pid) };
  const wallStart = Date.now();
  const results = await executor.runPhase(shardTasks(loaded, 0, resolveTarget(loaded.plan.target), 'bench'));
  const wallSeconds = (Date.now() - wallStart) / 1000;
  const harnessCpu = process.cpuUsage(cpuBefore.harness);
  const mockCpu = cpuSeconds(mock.pid) - cpuBefore.mock;
  const metrics = computePhaseMetrics(mergeShardResults(results), loaded.plan.phases[0]!);
  const servedDuring = (await served()) - servedBefore - 1;
  await executor.close();
  console.log('\n## 1. One worker thread against the mock (concurrency 64, streaming, 1 output token)');
  console.log(
    `requests/s: ${metrics.throughput.requestsPerSecond?.toFixed(0)} (${metrics.requests.ok} ok, ${metrics.requests.errors} errors measured in ${(metrics.durationMs / 1000).toFixed(1)} s; the mock served ${servedDuring} chat requests, warm-up included)`,
  );
  console.log(
    `e2e p50 ${metrics.latency.e2e?.p50.toFixed(2)} ms, p99 ${metrics.latency.e2e?.p99.toFixed(2)} ms; achieved concurrency ${metrics.concurrency.mean?.toFixed(1)}`,
  );
  // Whole windows only: the last one holds the requests finishing after the end.
  const perWindow = metrics.timeline.points.map((point) => point.ok).slice(0, -1);
  const later = perWindow.slice(1).sort((a, b) => a - b);
  console.log(
    `first measured second: ${perWindow[0]} completions, ${(((perWindow[0] ?? 0) / (later[Math.floor(later.length / 2)] ?? 1)) * 100).toFixed(0)} % of the median later second (the harness is warmed before it, the mock is not)`,
  );
  console.log(
    `CPU: harness process ${(((harnessCpu.user + harnessCpu.system) / 1e6 / wallSeconds) * 100).toFixed(0)} % of a core, mock process ${((mockCpu / wallSeconds) * 100).toFixed(0)} % of a core (2 cores in all)`,
  );
}

async function memoryPerInFlightRequest(): Promise<void> {
  // A model so slow that every request stays in flight for the whole phase.
  const mock = await startMock([{ name: 'slow', ttft: '20s', tokensPerSecond: 10, loadTime: '0ms' }]);
  const measure = async (concurrency: number) => {
    const loaded = planFor(mock.url, {
      models: ['slow'],
      load: { concurrency, duration: '4s' },
      conversation: { turns: 2, promptTokens: 32, maxTokens: 4 },
      memory: { interval: '250ms' },
    });
    const executor = createLocalExecutor({ threads: 1 });
    const results = await executor.runPhase(
      shardTasks(loaded, 0, { ...resolveTarget(loaded.plan.target), requestTimeoutMs: 4000 }, 'bench'),
    );
    await executor.close();
    const merged = mergeShardResults(results);
    const heapPeak = Math.max(
      ...Object.values(merged.memory.threadHeap)
        .flat()
        .map((s) => s.bytes),
    );
    const rssPeak = Math.max(
      ...Object.values(merged.memory.harnessRss)
        .flat()
        .map((s) => s.bytes),
    );
    return { heapPeak, rssPeak, timeouts: merged.requests.byClass.timeout ?? 0 };
  };
  const low = await measure(20);
  const high = await measure(520);
  console.log('\n## 2. Harness memory per request in flight (requests held open by a 20 s time to first token)');
  console.log(
    `thread heap peak: ${(low.heapPeak / 1e6).toFixed(1)} MB at 20 in flight, ${(high.heapPeak / 1e6).toFixed(1)} MB at 520 -> ${((high.heapPeak - low.heapPeak) / 500 / 1024).toFixed(1)} KiB per request`,
  );
  console.log(
    `process RSS peak: ${(low.rssPeak / 1e6).toFixed(1)} MB at 20, ${(high.rssPeak / 1e6).toFixed(1)} MB at 520 -> ${((high.rssPeak - low.rssPeak) / 500 / 1024).toFixed(1)} KiB per request`,
  );
  console.log(`(requests cut by the 4 s timeout at the end: ${low.timeouts} and ${high.timeouts})`);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function distributed(): Promise<void> {
  const port = await freePort();
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' },
  );
  children.push(redis);
  const redisUrl = `redis://127.0.0.1:${port}`;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const mock = await startMock([{ name: 'fast', ttft: '5ms', tokensPerSecond: 2000, loadTime: '0ms' }]);
  console.log('\n## 3. Distributed (mock: 5 ms to first token, 16 tokens at 2000/s)');
  for (const workers of [1, 2]) {
    const prefix = `bench${workers}`;
    const started = Array.from({ length: workers }, (_, index) =>
      startCli(['worker', '--redis', redisUrl, '--prefix', prefix, '--threads', '1', '--name', `w${index}`]),
    );
    await Promise.all(started.map((worker) => worker.waitFor(/ready on/)));
    const loaded = planFor(mock.url, {
      models: ['fast'],
      load: { concurrency: 32, duration: '8s' },
      shards: workers,
      conversation: { turns: 4, promptTokens: 8, maxTokens: 16 },
    });
    const run = async (plan: LoadedPlan) => {
      const { runId } = await submitRun({ redisUrl, prefix, loaded: plan, target: resolveTarget(plan.plan.target) });
      return watchRun({ redisUrl, prefix, runId, pollMs: 100 });
    };
    if (workers === 1) {
      // The first run meets a fresh Redis (BullMQ loads its scripts), a submitting process and a
      // worker that have not run one yet; later runs meet them as a long-lived deployment does.
      // From submitting to the first request's send, as the report has it (on the run's clock):
      // the mock's own time of arrival would add its cold start in a fresh mock process (40-50 ms here).
      const toFirstRequestMs = async () => {
        const submittedAt = Date.now();
        const report = await run(planFor(mock.url, { models: ['fast'], load: { concurrency: 1, requests: 1 } }));
        return Math.min(...report.phases[0]!.shards.map((shard) => shard.firstRequestAtMs ?? Infinity)) - submittedAt;
      };
      const first = await toFirstRequestMs();
      const next = await toFirstRequestMs();
      console.log(`submit -> first request sent, warm worker: first run ${first.toFixed(0)} ms, the next run ${next.toFixed(0)} ms`);
    }
    const before = (await (await request(`${mock.url}/stats`)).body.json()) as { requests: number };
    const report = await run(loaded);
    const stats = (await (await request(`${mock.url}/stats`)).body.json()) as { requests: number };
    const metrics = report.phases[0]!.metrics;
    console.log(
      `${workers} worker process${workers > 1 ? 'es' : ''} (1 thread each, shards: ${workers}): ${metrics.throughput.requestsPerSecond?.toFixed(0)} requests/s, e2e p50 ${metrics.latency.e2e?.p50.toFixed(1)} ms, concurrency ${metrics.concurrency.mean?.toFixed(1)}; mock saw ${stats.requests - before.requests} requests`,
    );
    for (const worker of started) worker.child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  console.log(`# grym-perf benchmarks (Node ${process.version}, ${require('node:os').availableParallelism()} cores)`);
  const sections: Record<string, () => Promise<void> | void> = {
    throughput: throughputOfOneThread,
    memory: memoryPerInFlightRequest,
    distributed,
    windows: windowCosts,
    'added-ttft': () => addedTtft({ startMock, planFor }),
    generator: generatorCost,
  };
  const chosen = process.argv.slice(2);
  const unknown = chosen.filter((name) => !Object.hasOwn(sections, name));
  if (unknown.length > 0) throw new Error(`unknown section ${unknown.join(', ')}: choose from ${Object.keys(sections).join(', ')}`);
  try {
    for (const [name, section] of Object.entries(sections)) if (chosen.length === 0 || chosen.includes(name)) await section();
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    process.exit(1);
  },
);
