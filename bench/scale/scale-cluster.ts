/**
 * The simulated machines of `bench:scale`: one private switch with a Redis host, a target host (the
 * lean OpenAI-compatible server and the built-in mock), a coordinator host and worker hosts, each in
 * its own network namespace. Redis, the targets and the coordinator run without a quota, each in a
 * group that only accounts for its CPU; workers are started per case by `startWorkers`, each in its
 * own group held to a quota. Everything is registered on the cleanup stack as soon as it exists.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CleanupStack } from './cleanup-stack';
import { LEAN_OPENAI_TARGET } from './lean-target';
import { startLogged, type LoggedProcess } from './logged-process';
import { mockServerPlan } from './scale-plans';
import { createCpuGroup, createNetwork, type CpuGroup, type SimulatedHost } from './simulated-hosts';

const REDIS_PORT = 6379;
const LEAN_PORT = 8000;
const MOCK_PORT = 8001;
/** Node boots in ~50 ms of CPU; a worker also warms its threads (250 ms of wall time) before it says ready. */
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
/**
 * Weight of the bench's groups against the rest of the machine (the kernel's default is 1024): other
 * processes may share the cores, and a worker that cannot get its quota on a busy machine, or a
 * target that cannot keep up, would measure the machine, not the quota. Quotas still cap workers.
 */
const BENCH_WEIGHT = 8192;

/** A process on a simulated host with the group that accounts for (or limits) its CPU. */
interface HostedProcess {
  name: string;
  host: SimulatedHost;
  group: CpuGroup;
  process: LoggedProcess;
}

/** The long-lived part of the bench's network. */
export interface ScaleCluster {
  redisUrl: string;
  /** OpenAI base URLs (`.../v1`) of the lean target and of the mock. */
  leanBaseUrl: string;
  mockBaseUrl: string;
  redis: HostedProcess;
  lean: HostedProcess;
  mock: HostedProcess;
  coordinatorHost: SimulatedHost;
  coordinatorGroup: CpuGroup;
  workerHosts: readonly SimulatedHost[];
}

/** Paths of grym-perf's CLI and the folder the bench writes its files to. */
export interface ScalePaths {
  cli: string;
  workDir: string;
}

async function startHosted(
  cleanup: CleanupStack,
  name: string,
  host: SimulatedHost,
  command: string,
  args: readonly string[],
  ready: RegExp,
  share: number | null,
): Promise<HostedProcess> {
  const group = await createCpuGroup(name, { cpuShareOfOneCore: share, weight: BENCH_WEIGHT });
  cleanup.defer(`destroy cpu group ${name}`, () => group.destroy());
  const process = startLogged(host, command, args, group);
  cleanup.defer(`stop ${name}`, () => process.stop(STOP_GRACE_MS));
  await process.waitFor(ready, START_TIMEOUT_MS);
  return { name, host, group, process };
}

/** Makes the network and starts Redis, the lean target and the mock. */
export async function startScaleCluster(cleanup: CleanupStack, paths: ScalePaths, maxWorkers: number): Promise<ScaleCluster> {
  const network = await createNetwork('scale');
  cleanup.defer('destroy network scale', () => network.destroy());
  const redisHost = await network.addHost('redis');
  const targetHost = await network.addHost('target');
  const coordinatorHost = await network.addHost('coord');
  const workerHosts: SimulatedHost[] = [];
  for (let index = 1; index <= maxWorkers; index++) workerHosts.push(await network.addHost(`w${index}`));

  const redis = await startHosted(
    cleanup,
    'redis',
    redisHost,
    'redis-server',
    ['--bind', redisHost.address, '--port', String(REDIS_PORT), '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--protected-mode', 'no'],
    /Ready to accept connections/,
    null,
  );
  const lean = await startHosted(
    cleanup,
    'lean-target',
    targetHost,
    process.execPath,
    ['-e', LEAN_OPENAI_TARGET, targetHost.address, String(LEAN_PORT)],
    /^listening /m,
    null,
  );
  const mockPlan = join(paths.workDir, 'mock-plan.json');
  writeFileSync(mockPlan, JSON.stringify(mockServerPlan()));
  const mock = await startHosted(
    cleanup,
    'mock',
    targetHost,
    process.execPath,
    [paths.cli, 'mock-llm', '--host', targetHost.address, '--port', String(MOCK_PORT), '--plan', mockPlan],
    /mock LLM listening/,
    null,
  );
  const coordinatorGroup = await createCpuGroup('coord', { cpuShareOfOneCore: null, weight: BENCH_WEIGHT });
  cleanup.defer('destroy cpu group coord', () => coordinatorGroup.destroy());
  return {
    redisUrl: `redis://${redisHost.address}:${REDIS_PORT}`,
    leanBaseUrl: `http://${targetHost.address}:${LEAN_PORT}/v1`,
    mockBaseUrl: `http://${targetHost.address}:${MOCK_PORT}/v1`,
    redis,
    lean,
    mock,
    coordinatorHost,
    coordinatorGroup,
    workerHosts,
  };
}

/** How the workers of a case run. */
export interface WorkerSettings {
  count: number;
  /** Each worker's CPU quota, in cores. */
  share: number;
  /** CFS period in microseconds. */
  periodUs: number;
  /** Generator threads per worker (`--threads`). */
  threads: number | null;
  /** Queue prefix of the case, so that no job of another case is ever taken. */
  prefix: string;
}

/** The workers of one case, started and ready; `stop()` stops them and removes their groups. */
export interface StartedWorkers {
  workers: HostedProcess[];
  stop(): Promise<void>;
}

/**
 * Starts `count` `grym-perf worker` processes, worker i on worker host i, each joining its own group
 * before it execs (so start-up is inside the quota too), and waits until each says it is ready.
 */
export async function startWorkers(cleanup: CleanupStack, cluster: ScaleCluster, paths: ScalePaths, settings: WorkerSettings): Promise<StartedWorkers> {
  const workers: HostedProcess[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(workers.map((worker) => worker.process.stop(STOP_GRACE_MS)));
      await Promise.all(workers.map((worker) => worker.group.destroy()));
    })();
    return stopping;
  };
  // Registered before the first start, so a failure half-way still stops the ones started.
  cleanup.defer(`stop workers ${settings.prefix}`, stop);
  try {
    for (let index = 0; index < settings.count; index++) {
      const host = cluster.workerHosts[index]!;
      const name = `${settings.prefix}-${host.name}`;
      const group = await createCpuGroup(name, { cpuShareOfOneCore: settings.share, periodUs: settings.periodUs, weight: BENCH_WEIGHT });
      const args = [paths.cli, 'worker', '--redis', cluster.redisUrl, '--prefix', settings.prefix, '--name', host.name, '--concurrency', '1'];
      if (settings.threads !== null) args.push('--threads', String(settings.threads));
      const process = startLogged(host, globalThis.process.execPath, args, group);
      workers.push({ name: host.name, host, group, process });
    }
    // Started together, waited on together: at 12.5 % of a core each boots in a few seconds.
    await Promise.all(workers.map((worker) => worker.process.waitFor(/ ready on /, START_TIMEOUT_MS)));
  } catch (error) {
    await stop();
    throw error;
  }
  return { workers, stop };
}
