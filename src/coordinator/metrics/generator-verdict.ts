import type { Phase } from '../../shared/phase-schema';
import type { PhaseMetrics, Summary } from '../../shared/phase-metrics';
import type { MachineLoad } from '../../shared/shard-result';
import { formatValue } from '../../shared/units';

/** Other processes (and steal) held at least this share of the machine's cores: they, not grym-perf, were in the way. */
const MACHINE_BUSY_SHARE = 0.5;
/** grym-perf's threads used at least this share of a core each: it was busy itself. */
const HARNESS_BUSY_SHARE = 0.8;

type MachineShare = NonNullable<PhaseMetrics['generator']['machine']>;

/** The machine where others took the largest share of the cores, as average cores over the shard. */
function mostContended(machines: readonly MachineLoad[]): (MachineShare & { threads: number }) | null {
  let worst: (MachineShare & { threads: number }) | null = null;
  for (const load of machines) {
    if (load.machineBusyMs === null || load.machineStealMs === null || load.wallMs <= 0) continue;
    const harnessCores = load.processCpuMs / load.wallMs;
    const stealCores = load.machineStealMs / load.wallMs;
    const otherCores = Math.max(0, load.machineBusyMs - load.machineStealMs - load.processCpuMs) / load.wallMs;
    const share = { host: load.host, cores: load.cores, harnessCores, otherCores, stealCores, threads: load.threads };
    if (!worst || (otherCores + stealCores) / load.cores > (worst.otherCores + worst.stealCores) / worst.cores) worst = share;
  }
  return worst;
}

const cores = (value: number) => value.toFixed(2);

/**
 * The generator's own delays (event-loop lag, GC pauses) at the percentile the plan judges are at
 * most this share of the latency judged there: above it, the tail measures the generator. A server
 * answering in 50 ms at 10 connections read 5-8 ms high at p99 while the thread was 6-8 % busy on
 * average: ten responses arriving together waited for each other in one event loop.
 */
const TAIL_SHARE = 0.1;
/** Below this, a delay is timer noise, whatever the latency it is compared with. */
const TAIL_FLOOR_MS = 1;

/** A percentile a plan may judge latency at, from its criteria. */
export type TailPercentile = 'p50' | 'p90' | 'p95' | 'p99' | 'max';
const TAIL_ORDER: readonly TailPercentile[] = ['p50', 'p90', 'p95', 'p99', 'max'];

/**
 * The highest latency percentile the phase's criteria judge, and the latency metrics judged there
 * (`ttft`, `e2e`, `response`); p99 of TTFT (else e2e) when no criterion names one.
 */
export function judgedTail(phase: Phase): { percentile: TailPercentile; metrics: string[] } {
  let percentile: TailPercentile | undefined;
  const named: Array<[string, TailPercentile]> = [];
  for (const { metric } of phase.criteria) {
    const [family, name, statistic] = metric.split('.');
    if (family !== 'latency' || !name || !['ttft', 'e2e', 'response'].includes(name)) continue;
    if (!TAIL_ORDER.includes(statistic as TailPercentile)) continue;
    named.push([name, statistic as TailPercentile]);
    if (percentile === undefined || TAIL_ORDER.indexOf(statistic as TailPercentile) > TAIL_ORDER.indexOf(percentile))
      percentile = statistic as TailPercentile;
  }
  if (percentile === undefined) return { percentile: 'p99', metrics: ['ttft', 'e2e'] };
  return { percentile, metrics: named.filter(([, at]) => at === percentile).map(([name]) => name) };
}

/** What the generator's threads showed of themselves over a phase. */
export interface GeneratorSignals {
  loopLag: Summary | null;
  /** Open loop: how late arrivals started. */
  schedulingLag: Summary | null;
  /** GC pauses in the generator threads; null when they belong to the system under test (a module target). */
  gcPauses: Summary | null;
  busiestUtilization: number | null;
  machines: readonly MachineLoad[];
  /**
   * How late the built-in mock sent first tokens by its own schedule, when it serves from the
   * coordinator's process (local runs): a stalled machine makes it late, and the latencies then
   * measure the machine, not the mock's settings.
   */
  mockLateness?: Summary | null;
  /**
   * The latency the plan judges, at the percentile it judges (`judgedTail`): the smallest of the
   * judged metrics there, which the generator's own delays inflate the most. Absent: not compared.
   */
  tail?: { percentile: TailPercentile; metric: string; latencyMs: number } | null;
}

/** A delay of the generator's own (or the in-process mock's) that is a large share of the judged tail latency, in words; else null. */
function tailWarning(what: string, delay: Summary | null, tail: GeneratorSignals['tail'], measures = 'the generator'): string | null {
  if (!delay || !tail || tail.latencyMs <= 0) return null;
  const delayMs = delay[tail.percentile];
  if (delayMs < TAIL_FLOOR_MS || delayMs <= TAIL_SHARE * tail.latencyMs) return null;
  return (
    `${what} ${tail.percentile} ${formatValue('duration', delayMs)} is ${Math.round((delayMs / tail.latencyMs) * 100)} % of the ` +
    `${tail.metric} ${tail.percentile} judged (${formatValue('duration', tail.latencyMs)}): that tail measures ${measures}`
  );
}

/**
 * The generator is untrustworthy when one of its threads was too busy, its event loop lagged, it
 * paused for garbage collection long enough to hold every request in flight, or (open loop) it
 * started arrivals late: then the latencies measure the harness or the machine, not the target.
 * The cause says which: other processes holding the CPU (grym-perf's threads mostly idle while the
 * machine was busy) or grym-perf itself.
 */
export function judgeGenerator(signals: GeneratorSignals, phase: Phase): PhaseMetrics['generator'] {
  const { loopLag, schedulingLag, gcPauses, busiestUtilization, machines, tail, mockLateness = null } = signals;
  const limits = phase.generator;
  const warnings: string[] = [];
  // Lag and pauses are judged at the percentile the plan judges latency at (p99 by default).
  const at = tail?.percentile ?? 'p99';
  if (loopLag && loopLag[at] > limits.maxEventLoopLagMs) {
    warnings.push(
      `generator event-loop lag ${at} ${formatValue('duration', loopLag[at])} > ${formatValue('duration', limits.maxEventLoopLagMs)}`,
    );
  } else {
    const warning = tailWarning('generator event-loop lag', loopLag, tail);
    if (warning) warnings.push(warning);
  }
  if (busiestUtilization !== null && busiestUtilization > limits.maxUtilization) {
    warnings.push(
      `busiest generator thread ${formatValue('ratio', busiestUtilization)} busy > ${formatValue('ratio', limits.maxUtilization)}`,
    );
  }
  if (gcPauses && gcPauses[at] > limits.maxGcPauseMs) {
    warnings.push(
      `generator GC pauses ${at} ${formatValue('duration', gcPauses[at])} > ${formatValue('duration', limits.maxGcPauseMs)} ` +
        `(${gcPauses.count} pauses, longest ${formatValue('duration', gcPauses.max)})`,
    );
  } else {
    const warning = tailWarning('generator GC pauses', gcPauses, tail);
    if (warning) warnings.push(warning);
  }
  if (schedulingLag && schedulingLag.p99 > limits.maxSchedulingLagMs) {
    warnings.push(
      `open-loop scheduling lag p99 ${formatValue('duration', schedulingLag.p99)} > ${formatValue('duration', limits.maxSchedulingLagMs)}`,
    );
  }
  const mockWarning = tailWarning(
    'the built-in mock sent first tokens late by its own clock:',
    mockLateness,
    tail,
    'the machine, not the mock',
  );
  if (mockWarning) warnings.push(mockWarning);
  const contended = mostContended(machines);
  const machine = contended && {
    host: contended.host,
    cores: contended.cores,
    harnessCores: contended.harnessCores,
    otherCores: contended.otherCores,
    stealCores: contended.stealCores,
  };
  let cause: PhaseMetrics['generator']['cause'] = null;
  if (warnings.length > 0) {
    const othersShare = contended ? (contended.otherCores + contended.stealCores) / contended.cores : 0;
    const harnessShare = contended ? contended.harnessCores / Math.max(1, contended.threads) : 1;
    cause = othersShare >= MACHINE_BUSY_SHARE && harnessShare < HARNESS_BUSY_SHARE ? 'machine' : 'harness';
    if (cause === 'machine' && contended) {
      warnings.unshift(
        `the machine was busy with other processes: they used ${cores(contended.otherCores)} of ${contended.cores} cores ` +
          `(steal ${cores(contended.stealCores)}) while grym-perf used ${cores(contended.harnessCores)}: rerun on a quieter machine`,
      );
    }
  }
  return { eventLoopLag: loopLag, busiestUtilization, trustworthy: warnings.length === 0, cause, machine, warnings };
}
