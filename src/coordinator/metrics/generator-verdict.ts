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

/** What the generator's threads showed of themselves over a phase. */
export interface GeneratorSignals {
  loopLag: Summary | null;
  /** Open loop: how late arrivals started. */
  schedulingLag: Summary | null;
  /** GC pauses in the generator threads; null when they belong to the system under test (a module target). */
  gcPauses: Summary | null;
  busiestUtilization: number | null;
  machines: readonly MachineLoad[];
}

/**
 * The generator is untrustworthy when one of its threads was too busy, its event loop lagged, it
 * paused for garbage collection long enough to hold every request in flight, or (open loop) it
 * started arrivals late: then the latencies measure the harness or the machine, not the target.
 * The cause says which: other processes holding the CPU (grym-perf's threads mostly idle while the
 * machine was busy) or grym-perf itself.
 */
export function judgeGenerator(signals: GeneratorSignals, phase: Phase): PhaseMetrics['generator'] {
  const { loopLag, schedulingLag, gcPauses, busiestUtilization, machines } = signals;
  const limits = phase.generator;
  const warnings: string[] = [];
  if (loopLag && loopLag.p99 > limits.maxEventLoopLagMs) {
    warnings.push(
      `generator event-loop lag p99 ${formatValue('duration', loopLag.p99)} > ${formatValue('duration', limits.maxEventLoopLagMs)}`,
    );
  }
  if (busiestUtilization !== null && busiestUtilization > limits.maxUtilization) {
    warnings.push(
      `busiest generator thread ${formatValue('ratio', busiestUtilization)} busy > ${formatValue('ratio', limits.maxUtilization)}`,
    );
  }
  if (gcPauses && gcPauses.p99 > limits.maxGcPauseMs) {
    warnings.push(
      `generator GC pauses p99 ${formatValue('duration', gcPauses.p99)} > ${formatValue('duration', limits.maxGcPauseMs)} ` +
        `(${gcPauses.count} pauses, longest ${formatValue('duration', gcPauses.max)})`,
    );
  }
  if (schedulingLag && schedulingLag.p99 > limits.maxSchedulingLagMs) {
    warnings.push(
      `open-loop scheduling lag p99 ${formatValue('duration', schedulingLag.p99)} > ${formatValue('duration', limits.maxSchedulingLagMs)}`,
    );
  }
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
