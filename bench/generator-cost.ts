/**
 * What one grym-perf worker thread costs per request and per token, and how exact it is, measured
 * side by side with autocannon in the same run (issue 12). The generator (this process: the
 * worker thread grym-perf runs in, or autocannon) is pinned to core 0 and the dependency-free
 * lean server (`lean-server.ts`, its own process) to core 1, so that neither takes the other's CPU.
 * CPU is read with `process.cpuUsage()` over a steady window (from 1.5 s to 5.5 s of each run: the
 * warm-up and the end are left out) and divided by the answers the server counted in it: CPU time
 * is far less sensitive than wall time to the other processes of a busy machine.
 *
 * 1. CPU per non-streaming request, grym-perf against autocannon, alternated (2 rounds).
 * 2. CPU per received token: one write per token, and tokens batched in one write.
 * 3. Latency error against the server's own timing (50 ms to answer, 10 connections): e2e p50/p99,
 *    and TTFT p50/p99 of streams.
 * 4. RSS per in-flight stream at 2,000 streams held open in one worker process (`stream-memory.ts`,
 *    in a fresh process).
 * 5. Launch to first request of `grym-perf run` (and of autocannon's CLI), not pinned.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { stringify } from 'yaml';
import { computePhaseMetrics } from '../src/coordinator/metrics/compute-phase-metrics';
import { resolveTarget } from '../src/coordinator/resolve-target';
import { shardTasks } from '../src/coordinator/shard-tasks';
import type { PhaseMetrics } from '../src/shared/phase-metrics';
import { readPlan } from '../src/shared/parse-plan';
import { mergeShardResults } from '../src/shared/shard-result';
import { createLocalExecutor } from '../src/worker';
import type { LeanServerStats } from './lean-server';

const LEAN_SERVER = join(__dirname, 'lean-server.js');
const CLI = join(__dirname, '..', 'src', 'cli.js');
const RUN_S = 6;
/** The steady window CPU is read over, in seconds from the start of a run. */
const WINDOW_S: [number, number] = [1.5, 5.5];

export interface LeanServer {
  url: string;
  stats(): Promise<LeanServerStats>;
  reset(): Promise<void>;
  child: ChildProcess;
}

export async function startLean(mode: 'json' | 'sse', delayMs: number, tokens: number, intervalMs: number): Promise<LeanServer> {
  const args = ['-c', '1', process.execPath, LEAN_SERVER, mode, String(delayMs), String(tokens), String(intervalMs)];
  const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`lean server exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = String(chunk).match(/listening (\S+)/);
      if (match) resolve(match[1] as string);
    });
  });
  const server: LeanServer = {
    url,
    child,
    stats: async () => (await (await fetch(`${url}/stats`)).json()) as LeanServerStats,
    reset: async () => void (await fetch(`${url}/reset`, { method: 'POST' })),
  };
  // Node loads its fetch at the first call, tens of ms of CPU: now, not on the generator's pinned
  // core in the middle of a measured run.
  await server.stats();
  return server;
}

/** Pins every thread of this process (and the threads it starts later) to `cores`. */
function pinSelf(cores: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cores, String(process.pid)], { stdio: 'ignore' });
}

/** CPU µs of this process and answers of the server over the steady window of a run started now. */
function cpuOverWindow(server: LeanServer): Promise<{ cpuUs: number; answers: number }> {
  const at = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return (async () => {
    await at(WINDOW_S[0]);
    const cpuBefore = process.cpuUsage();
    const before = (await server.stats()).answers;
    await at(WINDOW_S[1] - WINDOW_S[0]);
    const cpu = process.cpuUsage(cpuBefore);
    return { cpuUs: cpu.user + cpu.system, answers: (await server.stats()).answers - before };
  })();
}

type Executor = ReturnType<typeof createLocalExecutor>;

/** One grym-perf phase of RUN_S seconds (1 s of it warm-up) from one worker thread. */
export async function grymRun(
  executor: Executor,
  server: LeanServer,
  options: { stream: boolean; concurrency: number; maxTokens: number; requestTimeout?: string; warmup?: string },
): Promise<{ metrics: PhaseMetrics; cpuUs: number; answers: number }> {
  const loaded = readPlan(
    stringify({
      name: 'generator-cost',
      target: { baseUrl: `${server.url}/v1`, stream: options.stream, requestTimeout: options.requestTimeout ?? '30s' },
      phases: [
        {
          name: 'cost',
          scenario: 'requests',
          models: ['lean'],
          load: { concurrency: options.concurrency, duration: `${RUN_S - 1}s`, warmup: options.warmup ?? '1s' },
          conversation: { turns: 4, promptTokens: 8, maxTokens: options.maxTokens },
        },
      ],
    }),
  );
  const window = cpuOverWindow(server);
  // The server's timing is compared from the start of the measured part on.
  const resetAtMeasure = new Promise((resolve) => setTimeout(() => void server.reset().then(resolve), 1100));
  const results = await executor.runPhase(shardTasks(loaded, 0, resolveTarget(loaded.plan.target), 'bench'));
  await resetAtMeasure;
  return { metrics: computePhaseMetrics(mergeShardResults(results), loaded.plan.phases[0]!), ...(await window) };
}

/** The request body a first grym-perf turn sends, for the reference clients. */
function firstTurnBody(stream: boolean): string {
  return JSON.stringify({
    model: 'lean',
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'the weather report mentions rivers lanterns copper gardens quiet' },
    ],
    max_tokens: 16,
    stream,
  });
}

/** autocannon for RUN_S seconds with the same request body a first grym-perf turn sends. */
async function autocannonRun(server: LeanServer, connections: number, stream: boolean): Promise<{ cpuUs: number; answers: number }> {
  const window = cpuOverWindow(server);
  await autocannon({
    url: `${server.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: firstTurnBody(stream),
    connections,
    duration: RUN_S,
  });
  return window;
}

/**
 * undici alone, the HTTP client grym-perf sends with: `connections` loops of `Pool.dispatch` with a
 * handler that does nothing, for RUN_S seconds. The floor of grym-perf's cost per request: what
 * is left between it and grym-perf's figure is everything grym-perf records and runs.
 */
async function undiciFloorRun(server: LeanServer, connections: number): Promise<{ cpuUs: number; answers: number }> {
  const pool = new Pool(server.url, { connections });
  const options = {
    path: '/v1/chat/completions',
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body: firstTurnBody(false),
  };
  const endAtMs = Date.now() + RUN_S * 1000;
  const exchange = () =>
    new Promise<void>((resolve) =>
      pool.dispatch(options, {
        onConnect() {},
        onHeaders: () => true,
        onData: () => true,
        onComplete: () => resolve(),
        onError: () => resolve(),
      }),
    );
  const window = cpuOverWindow(server);
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < endAtMs) await exchange();
    }),
  );
  await pool.close();
  return window;
}

const us = (value: number) => `${value.toFixed(1)} µs`;
const ms = (value: number | undefined | null) => (value === undefined || value === null ? 'n/a' : `${value.toFixed(2)} ms`);
const range = (values: number[], format: (value: number) => string) =>
  values.length === 1 ? format(values[0] as number) : `${format(Math.min(...values))} .. ${format(Math.max(...values))}`;

async function cpuPerRequest(executor: Executor): Promise<void> {
  const server = await startLean('json', 0, 1, 0);
  const grym: number[] = [];
  const cannon: number[] = [];
  const floor: number[] = [];
  let firstSecond = '';
  try {
    for (let round = 0; round < 2; round++) {
      const run = await grymRun(executor, server, { stream: false, concurrency: 10, maxTokens: 16 });
      grym.push(run.cpuUs / run.answers);
      const ok = run.metrics.timeline.points.map((point) => point.ok).slice(0, -1);
      const later = ok.slice(1).sort((a, b) => a - b);
      firstSecond +=
        `${round > 0 ? '; ' : ''}${(((ok[0] ?? 0) / (later[Math.floor(later.length / 2)] ?? 1)) * 100).toFixed(0)} %` +
        ` (stability ${((run.metrics.stability.value ?? 0) * 100).toFixed(0)} %)`;
      const reference = await autocannonRun(server, 10, false);
      cannon.push(reference.cpuUs / reference.answers);
      const bare = await undiciFloorRun(server, 10);
      floor.push(bare.cpuUs / bare.answers);
    }
  } finally {
    server.child.kill();
  }
  const ratios = grym.map((value, index) => value / (cannon[index] as number));
  console.log('\n## 7. Generator cost: CPU per request, one worker thread vs autocannon (same server, same run)');
  console.log('(generator pinned to core 0, lean server to core 1; non-streaming, 10 connections, answers at once)');
  console.log(`grym-perf: ${range(grym, us)} per request (TTFT, e2e, tokens, histograms, windows and conversations recorded)`);
  console.log(`autocannon: ${range(cannon, us)} per request`);
  console.log(`ratio grym-perf / autocannon: ${range(ratios, (value) => `${value.toFixed(2)}x`)} (goal <= 1.5x)`);
  console.log(
    `undici alone (Pool.dispatch, a handler that does nothing): ${range(floor, us)} per request, ` +
      `${range(
        floor.map((value, index) => value / (cannon[index] as number)),
        (value) => `${value.toFixed(2)}x`,
      )} autocannon`,
  );
  console.log(`first measured second against the median later second: ${firstSecond}`);
}

async function cpuPerToken(executor: Executor): Promise<void> {
  console.log('\n## 8. Generator cost: CPU per received token (streaming)');
  for (const [label, tokens, intervalMs, concurrency] of [
    ['one write per token, 64 tokens 5 ms apart, 100 streams', 64, 5, 100],
    ['tokens batched: 256 tokens in one write, 20 streams', 256, 0, 20],
  ] as const) {
    const server = await startLean('sse', 0, tokens, intervalMs);
    try {
      const grym = await grymRun(executor, server, { stream: true, concurrency, maxTokens: tokens });
      const cannon = await autocannonRun(server, concurrency, true);
      console.log(
        `${label}: grym-perf ${us(grym.cpuUs / (grym.answers * tokens))} per token (parsed, ITL recorded); ` +
          `autocannon ${us(cannon.cpuUs / (cannon.answers * tokens))} per token (read, not parsed)`,
      );
    } finally {
      server.child.kill();
    }
  }
}

async function latencyError(executor: Executor): Promise<void> {
  console.log("\n## 9. Latency error against the server's own timing (answers after 50 ms, 10 connections)");
  console.log('| what | server p50 / p99 | grym-perf p50 / p99 | error p50 / p99 | generator self-check |');
  console.log('|---|---|---|---|---|');
  for (const stream of [false, true]) {
    const server = await startLean(stream ? 'sse' : 'json', 50, 16, stream ? 1 : 0);
    try {
      for (let round = 0; round < 2; round++) {
        const run = await grymRun(executor, server, { stream, concurrency: 10, maxTokens: 16 });
        const truth = (await server.stats())[stream ? 'ttftMs' : 'e2eMs'];
        const measured = stream ? run.metrics.latency.ttft : run.metrics.latency.e2e;
        const error = (key: 'p50' | 'p99') => (measured && truth ? `${(measured[key] - truth[key]).toFixed(2)}` : 'n/a');
        const { generator } = run.metrics;
        console.log(
          `| ${stream ? 'TTFT (SSE)' : 'e2e (JSON)'} | ${ms(truth?.p50)} / ${ms(truth?.p99)} | ${ms(measured?.p50)} / ${ms(measured?.p99)} | ` +
            `${error('p50')} / ${error('p99')} ms | ${generator.trustworthy ? 'trustworthy' : generator.warnings.join('; ')} |`,
        );
      }
    } finally {
      server.child.kill();
    }
  }
  console.log('(goal: p50 within 0.5 ms, p99 within 2 ms)');
}

/** ms from spawning `command` (with `env`) to the first request at a fresh lean server. */
async function launchToFirstRequest(command: (url: string) => string[], env: NodeJS.ProcessEnv): Promise<number> {
  const server = await startLean('json', 0, 1, 0);
  try {
    const [file, ...args] = command(server.url) as [string, ...string[]];
    const spawnedAtMs = Date.now();
    const child = spawn(file, args, { stdio: 'ignore', env });
    let first: number | null = null;
    for (let tries = 0; tries < 200 && first === null; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      first = (await server.stats()).firstRequestAtMs;
    }
    child.kill();
    if (first === null) throw new Error(`no request from ${file} ${args.join(' ')}`);
    return first - spawnedAtMs;
  } finally {
    server.child.kill();
  }
}

/**
 * Launch to first request, three rounds each, in this machine's environment and, when it sets
 * NODE_EXTRA_CA_CERTS, also without it: Node reads and parses that file at every process start
 * (~60 ms here against ~25 ms for the rest of its boot), a cost of the environment that any Node
 * tool, autocannon too, pays before its first line runs.
 */
async function launch(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'grym-launch-'));
  const grymCommand = (round: number) => (url: string) => {
    const plan = join(work, `plan-${round}.yaml`);
    writeFileSync(
      plan,
      stringify({
        name: 'launch',
        target: { baseUrl: `${url}/v1`, stream: false },
        phases: [{ name: 'a', scenario: 'requests', models: ['lean'], load: { requests: 1 } }],
      }),
    );
    return [process.execPath, CLI, 'run', plan, '--out', join(work, `out-${round}`), '--no-history'];
  };
  const cannonCommand = (url: string) => [
    process.execPath,
    require.resolve('autocannon/autocannon.js'),
    '-d',
    '1',
    '-m',
    'POST',
    `${url}/v1/chat/completions`,
  ];
  const { NODE_EXTRA_CA_CERTS: extraCerts, ...withoutCerts } = process.env;
  const environments: Array<[string, NodeJS.ProcessEnv]> = [["this machine's environment", process.env]];
  if (extraCerts) environments.push(['without NODE_EXTRA_CA_CERTS', withoutCerts]);
  console.log('\n## 11. Launch to first request (a local run of one request)');
  for (const [label, env] of environments) {
    const grym: number[] = [];
    const cannon: number[] = [];
    for (let round = 0; round < 3; round++) {
      grym.push(await launchToFirstRequest(grymCommand(round), env));
      cannon.push(await launchToFirstRequest(cannonCommand, env));
    }
    console.log(
      `${label}: grym-perf run ${range(grym, (value) => `${value} ms`)}; autocannon CLI ${range(cannon, (value) => `${value} ms`)} (goal <= 250 ms)`,
    );
  }
}

/** Sections 7-11 of `npm run bench` (`npm run bench -- generator`). */
export async function generatorCost(): Promise<void> {
  pinSelf('0');
  const executor = createLocalExecutor({ threads: 1 });
  try {
    await cpuPerRequest(executor);
    await cpuPerToken(executor);
    await latencyError(executor);
  } finally {
    await executor.close();
  }
  try {
    // In a process of its own: this one's RSS still holds what the sections before it allocated.
    execFileSync('taskset', ['-c', '0', process.execPath, '--expose-gc', join(__dirname, 'stream-memory.js')], { stdio: 'inherit' });
  } finally {
    pinSelf('0-1');
  }
  // Not pinned: a run's main thread and its worker threads start side by side on the machine's cores.
  await launch();
}
