/**
 * Samples, every few hundred milliseconds, the CPU time (cpuacct), CFS throttling (cpu.stat) and
 * resident memory of the processes the scale-out bench runs, and the machine's busy time
 * (/proc/stat), so that figures can be read over exactly the window a phase measured: the report
 * knows that window only after the run, and a cgroup counts from its creation.
 */
import { readFileSync } from 'node:fs';
import { rssBytes } from './logged-process';
import type { CpuGroup, ThrottleStats } from './simulated-hosts';

/** One process (and its CPU group) to follow. */
export interface SampledProcess {
  name: string;
  group: CpuGroup;
  /** Its RSS is read from /proc; null: CPU only. */
  pid: number | null;
}

/** One reading of every followed process and of the machine. */
interface Sample {
  atMs: number;
  cpuS: number[];
  throttle: ThrottleStats[];
  rssBytes: Array<number | null>;
  /** Busy seconds of all cores (user, nice, system, irq, softirq, steal), from /proc/stat. */
  machineBusyS: number;
}

/** What a process did over a window. */
interface WindowUse {
  name: string;
  /** CPU seconds its group used in the window. */
  cpuS: number;
  /** cpuS / window seconds: cores used on average. */
  cores: number;
  /** CFS periods in the window, and those in which the group ran out of quota. */
  periods: number;
  throttledPeriods: number;
  /** Seconds its tasks waited for the next period, summed over its threads. */
  throttledS: number;
  /** Median and peak RSS of the samples inside the window; null without a pid. */
  rssMedianBytes: number | null;
  rssPeakBytes: number | null;
}

/** The followed processes and the machine over one window. */
export interface WindowReading {
  fromMs: number;
  toMs: number;
  processes: WindowUse[];
  /** Busy cores of the whole machine on average (every process, ours and others'). */
  machineBusyCores: number;
}

/** A running sampler. */
export interface GroupSampler {
  /** Figures over [fromMs, toMs] (epoch ms), CPU interpolated between the samples around each end. */
  window(fromMs: number, toMs: number): WindowReading;
  /** The latest RSS of each process (bytes, null if gone or not followed). */
  latestRss(): Array<number | null>;
  stop(): Promise<void>;
}

// /proc/stat counts in USER_HZ, 100 on every Linux architecture grym-perf runs on.
const TICKS_PER_S = 100;

function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS_PER_S;
}

/** Linear interpolation of `pick` at `atMs` between the samples around it (clamped to the ends). */
function valueAt(samples: readonly Sample[], atMs: number, pick: (sample: Sample) => number): number {
  const after = samples.findIndex((sample) => sample.atMs >= atMs);
  if (after === -1) return pick(samples[samples.length - 1]!);
  if (after === 0) return pick(samples[0]!);
  const a = samples[after - 1]!;
  const b = samples[after]!;
  const fraction = (atMs - a.atMs) / (b.atMs - a.atMs);
  return pick(a) + (pick(b) - pick(a)) * fraction;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Starts sampling `processes` every `intervalMs` (one sample at once). Cheap: a few small reads
 * per process, about 0.1 % of a core at 100 ms.
 */
export async function startGroupSampler(processes: readonly SampledProcess[], intervalMs: number): Promise<GroupSampler> {
  const samples: Sample[] = [];
  const take = async (): Promise<void> => {
    const [cpuS, throttle] = await Promise.all([
      Promise.all(processes.map((p) => p.group.cpuSeconds())),
      Promise.all(processes.map((p) => p.group.throttleStats())),
    ]);
    samples.push({
      atMs: Date.now(),
      cpuS,
      throttle,
      rssBytes: processes.map((p) => (p.pid === null ? null : rssBytes(p.pid))),
      machineBusyS: machineBusySeconds(),
    });
  };
  await take();
  let pending: Promise<void> = Promise.resolve();
  // A group removed under the sampler (a failed case being cleaned up) ends sampling quietly.
  let failed = false;
  const timer = setInterval(() => {
    pending = pending.then(take).catch(() => {
      failed = true;
      clearInterval(timer);
    });
  }, intervalMs);

  return {
    window(fromMs, toMs) {
      const seconds = (toMs - fromMs) / 1000;
      const inside = samples.filter((sample) => sample.atMs >= fromMs && sample.atMs <= toMs);
      return {
        fromMs,
        toMs,
        machineBusyCores: (valueAt(samples, toMs, (s) => s.machineBusyS) - valueAt(samples, fromMs, (s) => s.machineBusyS)) / seconds,
        processes: processes.map((process, index) => {
          const delta = (pick: (sample: Sample) => number): number => valueAt(samples, toMs, pick) - valueAt(samples, fromMs, pick);
          const cpuS = delta((s) => s.cpuS[index]!);
          const rss = inside.map((s) => s.rssBytes[index]).filter((value): value is number => value !== null && value !== undefined);
          return {
            name: process.name,
            cpuS,
            cores: cpuS / seconds,
            periods: Math.round(delta((s) => s.throttle[index]!.periods)),
            throttledPeriods: Math.round(delta((s) => s.throttle[index]!.throttledPeriods)),
            throttledS: delta((s) => s.throttle[index]!.throttledSeconds),
            rssMedianBytes: median(rss),
            rssPeakBytes: rss.length > 0 ? Math.max(...rss) : null,
          };
        }),
      };
    },
    latestRss() {
      return samples[samples.length - 1]?.rssBytes ?? processes.map(() => null);
    },
    async stop() {
      clearInterval(timer);
      if (!failed) await pending.catch(() => undefined);
    },
  };
}
