/**
 * One case of `bench:scale`: N workers started on their hosts under their quotas, one plan
 * submitted by the coordinator (`grym-perf run --redis`), and the figures read over the window the
 * phase measured: its report for requests, streams and latencies, the cgroups for CPU and
 * throttling, /proc for RSS, and its request log for the merged-vs-one-place percentile check.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReport } from '../../src/shared/run-report';
import type { CleanupStack } from './cleanup-stack';
import { startGroupSampler, type GroupSampler, type WindowReading } from './group-sampler';
import { startLogged } from './logged-process';
import { checkMergedPercentiles, readRequestLog, type PercentileCheck } from './merged-percentiles';
import { startWorkers, type ScaleCluster, type ScalePaths, type WorkerSettings } from './scale-cluster';
import type { SimulatedHost } from './simulated-hosts';
import { steadyFigures, type SteadyFigures } from './steady-window';

/** Samples of CPU, throttling and RSS: fine enough to cut a 10 s window within 1 %. */
const SAMPLE_INTERVAL_MS = 100;
/**
 * A worker says it is ready before V8 has finished compiling what its warm-up ran (on its own
 * background threads, inside its quota): at 12.5 % of a core that takes seconds. The run is
 * submitted once every worker has used less than IDLE_CORES over the last IDLE_WATCH_MS, as a
 * long-lived worker would be, or after SETTLE_TIMEOUT_MS.
 */
const IDLE_WATCH_MS = 1000;
const IDLE_CORES = 0.01;
const SETTLE_TIMEOUT_MS = 60_000;
/** The coordinator's own time on top of the plan: submit, barrier, merge, reports. */
const RUN_OVERHEAD_MS = 60_000;
/** The request log keeps every request up to this many per phase (the CLI's maximum). */
const REQUESTS_MAX = 100_000;

/** What a case submits and how its measured window is found. */
export interface ScaleCaseSpec {
  /** `throughput`, `streams`, `exact`, or a label of an investigation case. */
  label: string;
  workload: 'throughput' | 'streams' | 'exact';
  workers: WorkerSettings;
  /** The plan, as `scale-plans.ts` builds it. */
  plan: object;
  /** Planned measured part of the phase (after its warm-up), in ms; null: every request is measured. */
  measuredMs: number | null;
  /** The plan's warm-up, in ms. */
  warmupMs: number;
  /** Planned phase length, warm-up included, in ms (bounds the wait for the coordinator). */
  phaseMs: number;
  /**
   * Keep the request log (`run --requests`): held streams and the exact cases read it. Throughput
   * cases go without: keeping 100,000 entries costs the workers CPU per request the figure would include.
   */
  requestLog: boolean;
  /** The target's `/stats` URL, read before and after: generations it answered during the case. */
  statsUrl: string;
}

/** One worker over the case's window (see `ScaleCaseResult.basis`). */
interface WorkerFigures {
  name: string;
  /** Cores it used (cpuacct) and its quota in cores. */
  cores: number;
  quotaCores: number;
  /** Periods in which it ran out of quota / periods in which it had work. */
  throttledRatio: number | null;
  /** Seconds its threads waited for the next period, summed over threads. */
  throttledS: number;
  /** Requests in flight on average (its shard, from the log's steady window); null without it. */
  streams: number | null;
  /** RSS before the run (idle, after start-up) and the median of the window's samples. */
  rssIdleBytes: number | null;
  rssMedianBytes: number | null;
  /** Cores it used idle before the run, and the CPU seconds its start-up took. */
  idleCores: number;
  bootCpuS: number;
}

/** Everything measured in one case, as written to the JSON file. */
export interface ScaleCaseResult {
  label: string;
  workload: ScaleCaseSpec['workload'];
  workers: number;
  shareOfOneCore: number;
  periodMs: number;
  threads: number | null;
  warmupMs: number;
  exitCode: number | string;
  runError: string | null;
  /**
   * Where requests/s, streams and CPU per request are read: `report` over the planned measured
   * window (short requests: the report's figures), `steady` over the log's steady window (held
   * streams, see steady-window.ts), `none` when neither could be read.
   */
  basis: 'report' | 'steady' | 'none';
  windowMs: number | null;
  requestsPerSecond: number | null;
  /** Requests in flight on average: held streams for the streams workload. */
  streamsHeld: number | null;
  outputTokensPerSecond: number | null;
  /** CPU microseconds of all workers per request (cpuacct over the window / requests in it). */
  cpuPerRequestUs: number | null;
  /** Mean over workers of (RSS in the window - RSS idle) / its streams: an upper bound, fixed costs included. */
  rssPerStreamBytes: number | null;
  report: {
    ok: number;
    errors: number;
    byClass: Record<string, number>;
    requestsPerSecond: number | null;
    inFlightMean: number | null;
    requestedConcurrency: number;
    latencyMs: { e2eP50: number | null; e2eP99: number | null; ttftP50: number | null; ttftP99: number | null };
    stability: number | null;
    generatorTrustworthy: boolean | null;
    /** Shards' first measured requests: latest minus earliest, ms (how together the barrier started them). */
    startSpreadMs: number | null;
  };
  steady: SteadyFigures | null;
  workerFigures: WorkerFigures[];
  /** From every worker's "ready" to the second in which all were idle. */
  settleMs: number;
  target: { cores: number | null; generations: number | null };
  redisCores: number | null;
  coordinatorCores: number | null;
  /** Busy cores of the whole machine over the window, and those not used by the bench's processes. */
  machineBusyCores: number | null;
  otherCores: number | null;
  loadAverage: string;
  log: { lines: number; complete: boolean };
  percentileChecks: PercentileCheck[];
  /**
   * Window by window (the phase's stability windows, 1 s by default) over the measured part:
   * requests that ended in it (the report's time series, all shards) and the CPU seconds all
   * workers used in it. Shows the harness's warm-up: CPU per request falls while V8 compiles.
   */
  perSecond: Array<{ requests: number; workersCpuS: number }>;
  /** CPU per request in the first window over the median of the others (1: no warm-up left in the measured part). */
  firstSecondCostRatio: number | null;
}

/** Reads the target's `/stats` from inside the network (the root namespace has no route to it). */
async function readGenerations(host: SimulatedHost, url: string): Promise<number | null> {
  const source = `fetch(process.argv[1], { signal: AbortSignal.timeout(5000) }).then((r) => r.json()).then((s) => console.log(s.generations))`;
  try {
    const { stdout } = await host.run(process.execPath, ['-e', source, url], { timeoutMs: 10_000 });
    const generations = Number(stdout.trim());
    return Number.isFinite(generations) ? generations : null;
  } catch {
    return null;
  }
}

/** Runs one case and always stops its workers, whether it succeeds or not. */
export async function runScaleCase(cleanup: CleanupStack, cluster: ScaleCluster, paths: ScalePaths, spec: ScaleCaseSpec): Promise<ScaleCaseResult> {
  const dir = join(paths.workDir, spec.label);
  mkdirSync(dir, { recursive: true });
  const planFile = join(dir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(spec.plan, null, 2));
  const started = await startWorkers(cleanup, cluster, paths, spec.workers);
  try {
    const processes = [
      ...started.workers.map((worker) => ({ name: worker.name, group: worker.group, pid: worker.process.pid })),
      { name: 'lean-target', group: cluster.lean.group, pid: cluster.lean.process.pid },
      { name: 'mock', group: cluster.mock.group, pid: cluster.mock.process.pid },
      { name: 'redis', group: cluster.redis.group, pid: cluster.redis.process.pid },
      { name: 'coordinator', group: cluster.coordinatorGroup, pid: null },
    ];
    const sampler = await startGroupSampler(processes, SAMPLE_INTERVAL_MS);
    const bootCpuS = await Promise.all(started.workers.map((worker) => worker.group.cpuSeconds()));
    try {
      const readyAtMs = Date.now();
      let idle: WindowReading;
      for (;;) {
        const idleFrom = Date.now();
        await new Promise((resolve) => setTimeout(resolve, IDLE_WATCH_MS));
        idle = sampler.window(idleFrom, Date.now());
        const busy = idle.processes.slice(0, started.workers.length).some((use) => use.cores >= IDLE_CORES);
        if (!busy || Date.now() - readyAtMs > SETTLE_TIMEOUT_MS) break;
      }
      const settleMs = Date.now() - IDLE_WATCH_MS - readyAtMs;
      const generationsBefore = await readGenerations(cluster.coordinatorHost, spec.statsUrl);

      const out = join(dir, 'report');
      const log = join(dir, 'requests.jsonl');
      const coordinator = startLogged(
        cluster.coordinatorHost,
        process.execPath,
        [
          paths.cli,
          'run',
          planFile,
          '--redis',
          cluster.redisUrl,
          '--prefix',
          spec.workers.prefix,
          '--out',
          out,
          ...(spec.requestLog ? ['--requests', log, '--requests-max', String(REQUESTS_MAX)] : []),
          '--no-history',
          '--quiet',
        ],
        cluster.coordinatorGroup,
      );
      cleanup.defer(`stop coordinator ${spec.label}`, () => coordinator.stop(2000));
      const timeoutMs = spec.phaseMs + RUN_OVERHEAD_MS;
      const timer = setTimeout(() => void coordinator.stop(2000), timeoutMs);
      const exitCode = await coordinator.exited;
      clearTimeout(timer);
      // Let the samples run past the window's end before reading it.
      await new Promise((resolve) => setTimeout(resolve, 2 * SAMPLE_INTERVAL_MS));
      const generationsAfter = await readGenerations(cluster.coordinatorHost, spec.statsUrl);
      writeFileSync(join(dir, 'coordinator.log'), coordinator.output());
      for (const worker of started.workers) writeFileSync(join(dir, `${worker.name}.log`), worker.process.output());

      const reportFile = join(out, 'report.json');
      if (!existsSync(reportFile)) throw new Error(`case ${spec.label}: the coordinator exited (${exitCode}) without a report:\n${coordinator.output()}`);
      const report = JSON.parse(readFileSync(reportFile, 'utf8')) as RunReport;
      return caseFigures({ spec, report, sampler, idle, settleMs, bootCpuS, exitCode, workers: started.workers.map((w) => w.name), log, generations: [generationsBefore, generationsAfter] });
    } finally {
      await sampler.stop();
    }
  } finally {
    await started.stop();
  }
}

interface CaseInputs {
  spec: ScaleCaseSpec;
  report: RunReport;
  sampler: GroupSampler;
  idle: WindowReading;
  settleMs: number;
  bootCpuS: number[];
  exitCode: number | string;
  /** Worker names, in the sampler's order (workers come first there). */
  workers: string[];
  log: string;
  generations: [number | null, number | null];
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Reads a finished case: the report, the samples over its window, the request log. */
function caseFigures(inputs: CaseInputs): ScaleCaseResult {
  const { spec, report, sampler, idle, workers } = inputs;
  const phase = report.phases[0]!;
  const metrics = phase.metrics;
  const firsts = phase.shards.map((shard) => shard.firstRequestAtMs).filter((value): value is number => value !== null);
  const from = firsts.length > 0 ? Math.min(...firsts) : null;
  const plannedMs = spec.measuredMs;

  const entries = existsSync(inputs.log) ? readRequestLog(inputs.log).filter((entry) => entry.phase === phase.name) : [];
  const complete = entries.length > 0 && entries.every((entry) => entry.weight === 1);
  const steady = complete && from !== null && plannedMs !== null ? steadyFigures(entries, from, plannedMs, phase.shards.length) : null;
  // An exact case measures every request it sends, with no planned window: its figures are the report's.
  const basis: ScaleCaseResult['basis'] =
    spec.workload === 'streams' ? (steady ? 'steady' : 'none') : spec.workload === 'exact' || (from !== null && plannedMs !== null) ? 'report' : 'none';
  const windowed = basis === 'report' && plannedMs !== null && from !== null;
  const window = basis === 'steady' ? { fromMs: steady!.fromMs, toMs: steady!.toMs } : windowed ? { fromMs: from, toMs: from + plannedMs } : null;
  const reading = window ? sampler.window(window.fromMs, window.toMs) : null;

  const measured = metrics.requests.ok + metrics.requests.errors;
  const requestsInWindow = basis === 'steady' ? steady!.ended : measured;
  const workersCpuS = reading ? reading.processes.slice(0, workers.length).reduce((sum, use) => sum + use.cpuS, 0) : null;
  const shardOf = new Map(phase.shards.map((shard) => [shard.worker, shard.shardIndex]));
  const workerFigures: WorkerFigures[] = workers.map((name, index) => {
    const use = reading?.processes[index];
    const idleUse = idle.processes[index]!;
    const shard = shardOf.get(name);
    return {
      name,
      cores: use?.cores ?? NaN,
      quotaCores: spec.workers.share,
      throttledRatio: use && use.periods > 0 ? use.throttledPeriods / use.periods : null,
      throttledS: use?.throttledS ?? NaN,
      streams: steady && shard !== undefined ? (steady.inFlightByShard[shard] ?? null) : null,
      rssIdleBytes: idleUse.rssMedianBytes,
      rssMedianBytes: use?.rssMedianBytes ?? null,
      idleCores: idleUse.cores,
      bootCpuS: inputs.bootCpuS[index] ?? NaN,
    };
  });
  const perStream = workerFigures
    .map((worker) => (worker.streams && worker.rssMedianBytes !== null && worker.rssIdleBytes !== null ? (worker.rssMedianBytes - worker.rssIdleBytes) / worker.streams : null))
    .filter((value): value is number => value !== null);

  // The report's windows, from the phase start: the measured part begins with the first measured request.
  const perSecond: ScaleCaseResult['perSecond'] = [];
  if (from !== null && plannedMs !== null) {
    for (const point of metrics.timeline.points) {
      const a = from + point.tMs - spec.warmupMs;
      if (point.spanMs < metrics.timeline.windowMs || a + point.spanMs > from + plannedMs) continue;
      const use = sampler.window(a, a + point.spanMs).processes.slice(0, workers.length);
      perSecond.push({ requests: point.ok + point.errors, workersCpuS: use.reduce((sum, process) => sum + process.cpuS, 0) });
    }
  }
  const costs = perSecond.map((second) => (second.requests > 0 ? second.workersCpuS / second.requests : NaN));
  const restMedian = median(costs.slice(1).filter(Number.isFinite));
  const named = (name: string) => reading?.processes.find((use) => use.name === name) ?? null;
  const ours = reading ? reading.processes.reduce((sum, use) => sum + use.cores, 0) : null;
  const [generationsBefore, generationsAfter] = inputs.generations;
  const spanS = window ? (window.toMs - window.fromMs) / 1000 : null;
  return {
    label: spec.label,
    workload: spec.workload,
    workers: spec.workers.count,
    shareOfOneCore: spec.workers.share,
    periodMs: spec.workers.periodUs / 1000,
    threads: spec.workers.threads,
    warmupMs: spec.warmupMs,
    exitCode: inputs.exitCode,
    runError: phase.error?.message ?? null,
    basis,
    windowMs: spanS === null ? null : spanS * 1000,
    requestsPerSecond: basis === 'steady' ? steady!.endedPerSecond : basis === 'report' ? metrics.throughput.requestsPerSecond : null,
    streamsHeld: basis === 'steady' ? steady!.inFlightMean : basis === 'report' ? metrics.concurrency.mean : null,
    outputTokensPerSecond: basis === 'steady' ? steady!.outputTokensPerSecond : metrics.throughput.outputTokensPerSecond,
    cpuPerRequestUs: workersCpuS !== null && requestsInWindow > 0 ? (workersCpuS / requestsInWindow) * 1e6 : null,
    rssPerStreamBytes: perStream.length > 0 ? perStream.reduce((sum, value) => sum + value, 0) / perStream.length : null,
    report: {
      ok: metrics.requests.ok,
      errors: metrics.requests.errors,
      byClass: metrics.requests.byClass,
      requestsPerSecond: metrics.throughput.requestsPerSecond,
      inFlightMean: metrics.concurrency.mean,
      requestedConcurrency: metrics.concurrency.requested,
      latencyMs: {
        e2eP50: metrics.latency.e2e?.p50 ?? null,
        e2eP99: metrics.latency.e2e?.p99 ?? null,
        ttftP50: metrics.latency.ttft?.p50 ?? null,
        ttftP99: metrics.latency.ttft?.p99 ?? null,
      },
      stability: metrics.stability.value,
      generatorTrustworthy: metrics.generator.trustworthy,
      startSpreadMs: firsts.length > 1 ? Math.max(...firsts) - Math.min(...firsts) : null,
    },
    steady,
    workerFigures,
    settleMs: inputs.settleMs,
    target: {
      cores: named(spec.workload === 'throughput' ? 'lean-target' : 'mock')?.cores ?? null,
      generations: generationsBefore !== null && generationsAfter !== null ? generationsAfter - generationsBefore : null,
    },
    redisCores: named('redis')?.cores ?? null,
    coordinatorCores: named('coordinator')?.cores ?? null,
    machineBusyCores: reading?.machineBusyCores ?? null,
    otherCores: reading && ours !== null ? reading.machineBusyCores - ours : null,
    loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    log: { lines: entries.length, complete },
    percentileChecks: complete
      ? [
          checkMergedPercentiles(entries, 'e2e', metrics.latency.e2e),
          ...(metrics.latency.ttft ? [checkMergedPercentiles(entries, 'ttft', metrics.latency.ttft)] : []),
        ]
      : [],
    perSecond,
    firstSecondCostRatio: Number.isFinite(costs[0]) && restMedian ? costs[0]! / restMedian : null,
  };
}
