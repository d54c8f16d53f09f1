/**
 * Many workers: one run of 16 shards over 8 `grym-perf worker` processes (2 shards each) against
 * the built-in mock in its own process, through a redis-server of the test's own. The run must
 * complete with exact counts (each shard its share, the mock's own counter the total), and the
 * test measures and prints what coordinating it cost:
 * - the coordinator's CPU: the submitting CLI (submit, watch, reports), measured at its exit, beside
 *   `report` of the same run (start-up and report writing alone); and the control work (phase
 *   fan-out, the phase guard, merging 16 results, the report), all in one dashboard process because
 *   the workers run with `--no-aggregate`, measured from /proc against its idle rate;
 * - Redis traffic: commands and bytes (`INFO stats`, `INFO commandstats`) and Redis's own CPU
 *   during the run, less the idle rate of the same processes, per shard.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { stringify } from 'yaml';
import { barrierKeys, queueLayout } from '../../src/shared/queue-layout';
import type { RunReport } from '../../src/shared/run-report';
import { REPO_ROOT, runCli, spawnCli, type CliProcess } from '../helpers/cli-process';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

// Ten Node processes start through tsx on 2 shared cores (1-2 s of CPU each), then the run and an idle baseline.
jest.setTimeout(300_000);

const SHARDS = 16;
const WORKERS = 8;
const REQUESTS = 1600;
const IDLE_MS = 5000;
const workDir = mkdtempSync(join(tmpdir(), 'grym-many-'));
const REPORT_CPU = join(REPO_ROOT, 'tests', 'helpers', 'report-cpu.js');
let redis: TestRedis;
let admin: IORedis;
const started: CliProcess[] = [];

/** CPU ms (user + system, all threads) a live process has used, from /proc. */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name; in clock ticks of 10 ms on Linux.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface RedisSnapshot {
  atMs: number;
  commands: number;
  inBytes: number;
  outBytes: number;
  cpuMs: number;
  byCommand: Map<string, number>;
}

async function redisSnapshot(): Promise<RedisSnapshot> {
  const info = await admin.info('all');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)![1]);
  const byCommand = new Map<string, number>();
  for (const [, name, calls] of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) byCommand.set(name!, Number(calls));
  return {
    atMs: Date.now(),
    commands: field('total_commands_processed'),
    inBytes: field('total_net_input_bytes'),
    outBytes: field('total_net_output_bytes'),
    cpuMs: (field('used_cpu_user') + field('used_cpu_sys')) * 1000,
    byCommand,
  };
}

interface RedisDelta {
  spanMs: number;
  commands: number;
  inBytes: number;
  outBytes: number;
  cpuMs: number;
  byCommand: Map<string, number>;
}

/** What happened between two snapshots, less `idle` (a rate per ms of the same processes doing nothing) over the same time. */
function redisDelta(from: RedisSnapshot, to: RedisSnapshot, idlePerMs?: RedisDelta): RedisDelta {
  const spanMs = to.atMs - from.atMs;
  const less = (value: number, idleValue: number | undefined) => value - (idleValue ?? 0) * spanMs;
  const byCommand = new Map<string, number>();
  for (const [name, calls] of to.byCommand)
    byCommand.set(name, less(calls - (from.byCommand.get(name) ?? 0), idlePerMs?.byCommand.get(name)));
  return {
    spanMs,
    commands: less(to.commands - from.commands, idlePerMs?.commands),
    inBytes: less(to.inBytes - from.inBytes, idlePerMs?.inBytes),
    outBytes: less(to.outBytes - from.outBytes, idlePerMs?.outBytes),
    cpuMs: less(to.cpuMs - from.cpuMs, idlePerMs?.cpuMs),
    byCommand,
  };
}

function perMs(delta: RedisDelta): RedisDelta {
  const rate = (value: number) => value / delta.spanMs;
  return {
    spanMs: 1,
    commands: rate(delta.commands),
    inBytes: rate(delta.inBytes),
    outBytes: rate(delta.outBytes),
    cpuMs: rate(delta.cpuMs),
    byCommand: new Map([...delta.byCommand].map(([name, calls]) => [name, rate(calls)])),
  };
}

/** Who sends a command, by the name its connection gave Redis (`connectRedis` names every connection). */
function roleOf(clientName: string | undefined): string {
  if (!clientName) return 'unnamed';
  // BullMQ renames a worker's blocking connection `<prefix>:<queue, base64>:w:<worker name>`.
  const bullWorker = /:w:(.+)$/.exec(clientName)?.[1];
  if (bullWorker)
    return bullWorker.endsWith('-control') ? 'control (fan-out, guard, merge, report)' : 'shards: BullMQ (jobs, locks, progress)';
  if (/^grym-(watch|submit)/.test(clientName)) return 'run CLI (submit, watch)';
  if (/^grym-(control|dashboard)/.test(clientName)) return 'control (fan-out, guard, merge, report)';
  if (/^grym-worker-.*-(phase|barrier)$/.test(clientName)) return 'shards: barrier and phase control';
  if (/^grym-worker-/.test(clientName)) return 'shards: BullMQ (jobs, locks, progress)';
  return clientName;
}

/**
 * Commands and request bytes by role, from Redis MONITOR (its cost shows in Redis's CPU, not in the
 * processes measured). Connections are named by `CLIENT SETNAME` when they connect, seen in the
 * stream or in `CLIENT LIST` for those already open.
 */
async function watchCommandsByRole(url: string) {
  const names = new Map<string, string>();
  const lister = new IORedis(url);
  const listNames = async () => {
    for (const line of ((await lister.client('LIST')) as string).split('\n')) {
      const addr = /\baddr=(\S+)/.exec(line)?.[1];
      const name = /\bname=(\S*)/.exec(line)?.[1];
      if (addr && name) names.set(addr, name);
    }
  };
  await listNames();
  const lists = setInterval(() => void listNames().catch(() => undefined), 200);
  const seen: Array<{ source: string; bytes: number }> = [];
  const monitored = new IORedis(url);
  const monitor = await monitored.monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (args[0]?.toLowerCase() === 'client' && args[1]?.toLowerCase() === 'setname' && args[2]) names.set(source, args[2]);
    // RESP request size: the array header and each bulk string with its header.
    const bytes = args.reduce((sum, arg) => sum + Buffer.byteLength(arg) + String(Buffer.byteLength(arg)).length + 5, 4);
    // Commands a script runs are listed with source "lua": they belong to the EVALSHA that ran them, counted already.
    if (source !== 'lua') seen.push({ source, bytes });
  });
  return {
    async stop() {
      clearInterval(lists);
      await listNames();
      monitor.disconnect();
      monitored.disconnect();
      lister.disconnect();
      const byRole = new Map<string, { commands: number; bytes: number }>();
      for (const { source, bytes } of seen) {
        const role = roleOf(names.get(source));
        const sum = byRole.get(role) ?? { commands: 0, bytes: 0 };
        byRole.set(role, { commands: sum.commands + 1, bytes: sum.bytes + bytes });
      }
      return byRole;
    },
  };
}

/** CPU ms a short-lived CLI used, as `report-cpu.js` wrote it at its exit. */
async function cliCpuMs(args: string[], name: string): Promise<{ code: number | string; output: string; cpuMs: number }> {
  const file = join(workDir, `${name}.cpu.json`);
  const result = await runCli(args, { env: { NODE_OPTIONS: `--require ${REPORT_CPU}`, GRYM_TEST_CPU_FILE: file }, timeoutMs: 200_000 });
  const { user, system } = JSON.parse(readFileSync(file, 'utf8')) as { user: number; system: number };
  return { ...result, cpuMs: (user + system) / 1000 };
}

async function stopAll(processes: CliProcess[]): Promise<void> {
  for (const child of processes) child.kill('SIGTERM');
  await Promise.all(processes.map((child) => Promise.race([child.exited, new Promise((r) => setTimeout(r, 15_000).unref())])));
  for (const child of processes) child.kill('SIGKILL');
}

beforeAll(async () => {
  redis = await startTestRedis();
  admin = new IORedis(redis.url);
});

afterAll(async () => {
  await stopAll(started);
  admin.disconnect();
  await redis.destroy();
});

test(`${SHARDS} shards over ${WORKERS} worker processes: exact counts, and what coordinating them cost`, async () => {
  const prefix = `many${process.pid}`;
  const mock = spawnCli(['mock-llm', '--port', '0', '--plan', join(REPO_ROOT, 'tests/fixtures/plans/mock-models.yaml')]);
  started.push(mock);
  const mockUrl = (await mock.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1] as string;
  const redisArgs = ['--redis', redis.url, '--prefix', prefix];
  // The only control worker: every worker leaves coordination to it, so its CPU is the coordination's.
  // Two threads per worker, one per shard it runs: a thread started on demand would start its shard late.
  const control = spawnCli(['dashboard', ...redisArgs, '--port', '0']);
  const workers = Array.from({ length: WORKERS }, (_, index) =>
    spawnCli(['worker', ...redisArgs, '--name', `w${index}`, '--threads', '2', '--concurrency', '2', '--no-aggregate']),
  );
  started.push(control, ...workers);
  await control.waitFor(/dashboard on/, 90_000);
  await Promise.all(workers.map((worker) => worker.waitFor(/ready on .*not aggregating/, 90_000)));

  // Idle baseline: the same processes waiting, for IDLE_MS.
  const watched = [control, ...workers].map((child) => child.child.pid!);
  const cpuOf = () => watched.map(processCpuMs);
  const idleCpuBefore = cpuOf();
  const idleBefore = await redisSnapshot();
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  const idleCpuAfter = cpuOf();
  const idle = perMs(redisDelta(idleBefore, await redisSnapshot()));
  const idleControlCpuPerMs = (idleCpuAfter[0]! - idleCpuBefore[0]!) / IDLE_MS;

  const plan = join(workDir, 'many.yaml');
  writeFileSync(
    plan,
    stringify({
      version: 1,
      name: 'many',
      seed: 11,
      target: { baseUrl: `${mockUrl}/v1`, stream: true, requestTimeout: '10s', memory: { source: 'none' } },
      phases: [
        {
          name: 'wide',
          scenario: 'requests',
          models: ['fast-a'],
          load: { concurrency: SHARDS * 2, requests: REQUESTS },
          conversation: { turns: 4, promptTokens: 8, maxTokens: 8 },
          shards: SHARDS,
        },
      ],
    }),
  );
  const served = async () => ((await (await fetch(`${mockUrl}/stats`)).json()) as { generations: number }).generations;
  const servedBefore = await served();
  const out = join(workDir, 'out');
  const runCpuBefore = cpuOf();
  const runBefore = await redisSnapshot();
  const monitor = await watchCommandsByRole(redis.url);
  const run = await cliCpuMs(['run', plan, ...redisArgs, '--out', out, '--quiet', '--run-id', 'many-1'], 'run');
  const byRole = await monitor.stop();
  const runAfter = await redisSnapshot();
  const runCpuAfter = cpuOf();
  expect({ code: run.code, output: run.output }).toMatchObject({ code: 0 });

  // Exact counts: every request once, each shard its share, the mock's own counter the same.
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  const phase = report.phases[0]!;
  expect(phase.metrics.requests).toMatchObject({ total: REQUESTS, errors: 0 });
  expect((await served()) - servedBefore).toBe(REQUESTS);
  expect(phase.shards.map((shard) => shard.shardIndex).sort((a, b) => a - b)).toEqual(Array.from({ length: SHARDS }, (_, i) => i));
  const perWorker = new Map<string, number>();
  for (const shard of phase.shards) perWorker.set(shard.worker, (perWorker.get(shard.worker) ?? 0) + 1);
  expect([...perWorker.values()]).toEqual(Array(WORKERS).fill(2));
  expect(phase.shards.every((shard) => shard.attempts === 1)).toBe(true);
  // The shards started together (the start barrier), each worker's clock offset measured.
  const firsts = phase.shards.map((shard) => shard.firstRequestAtMs!);
  // 250 ms: every shard hears the start well within the barrier's lead (150 ms), but 10 processes on 2 busy cores wake a little late.
  expect(Math.max(...firsts) - Math.min(...firsts)).toBeLessThan(250);
  const barrierStartMs = Number(await admin.get(barrierKeys(queueLayout(prefix), 'many-1', 0).start));
  expect(phase.shards.every((shard) => typeof shard.clockOffsetMs === 'number')).toBe(true);

  const reportOnly = await cliCpuMs(['report', 'many-1', ...redisArgs, '--out', join(workDir, 'again')], 'report');
  expect(reportOnly.code).toBe(0);

  const traffic = redisDelta(runBefore, runAfter, idle);
  const controlCpuMs = runCpuAfter[0]! - runCpuBefore[0]! - idleControlCpuPerMs * traffic.spanMs;
  const workersCpuMs = runCpuAfter.slice(1).reduce((sum, cpu, index) => sum + cpu - runCpuBefore[index + 1]!, 0);
  // The phase was guarded: the guard read the shards' tallies, the shards wrote them.
  expect(traffic.byCommand.get('hgetall') ?? 0).toBeGreaterThan(0);
  expect(traffic.byCommand.get('hset') ?? 0).toBeGreaterThan(SHARDS);

  const round = (value: number) => Math.round(value * 10) / 10;
  const topCommands = [...traffic.byCommand]
    .filter(([, calls]) => calls >= 1)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([name, calls]) => `${name} ${round(calls / SHARDS)}`)
    .join(', ');
  const figures = [
    `${SHARDS} shards over ${WORKERS} worker processes, ${REQUESTS} requests in ${round(traffic.spanMs / 1000)} s (submit to reports written)`,
    `coordinator CPU: run CLI ${round(run.cpuMs)} ms in all (report of the same run alone: ${round(reportOnly.cpuMs)} ms, ` +
      `so submitting and watching cost ~${round(run.cpuMs - reportOnly.cpuMs)} ms, ${round((run.cpuMs - reportOnly.cpuMs) / SHARDS)} ms per shard)`,
    `control work (fan-out, guard, merge, report) in the dashboard process: ${round(controlCpuMs)} ms beyond idle, ` +
      `${round(controlCpuMs / SHARDS)} ms per shard`,
    `first requests after the start barrier's start: ${firsts
      .map((first) => Math.round(first - barrierStartMs))
      .sort((a, b) => a - b)
      .join(', ')} ms`,
    `worker processes: ${round(workersCpuMs)} ms CPU in all, ${round((workersCpuMs * 1000) / REQUESTS)} us per request`,
    `Redis during the run, beyond idle, per shard: ${round(traffic.commands / SHARDS)} commands, ` +
      `${round(traffic.inBytes / SHARDS / 1024)} KiB in, ${round(traffic.outBytes / SHARDS / 1024)} KiB out, ${round(traffic.cpuMs / SHARDS)} ms of Redis CPU`,
    `Redis idle (${WORKERS} workers + the control process waiting): ${round(idle.commands * 1000)} commands/s, ` +
      `${round((idle.inBytes * 1000) / 1024)} KiB/s in`,
    `commands per shard (Redis counts those scripts run too): ${topCommands}`,
    `commands and request bytes by role, per shard (MONITOR): ` +
      [...byRole]
        .sort((a, b) => b[1].commands - a[1].commands)
        .map(([role, sum]) => `${role} ${round(sum.commands / SHARDS)} commands ${round(sum.bytes / SHARDS / 1024)} KiB`)
        .join('; '),
  ];
  console.log(figures.join('\n'));
  writeFileSync(join(workDir, 'figures.txt'), `${figures.join('\n')}\n`);
});
