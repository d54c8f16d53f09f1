/**
 * How busy this process and the whole machine were over an interval: this process's CPU time
 * (all its threads, from process.cpuUsage) against the machine's busy and steal time (from
 * /proc/stat, scaled to wall time). A lagging generator on a machine that other processes keep
 * busy is the machine's fault, not grym-perf's: the verdict says which it was.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { MachineLoad } from '../shared/shard-result';

interface CpuTicks {
  busy: number;
  steal: number;
  total: number;
}

/** The machine's CPU time so far, in ticks; null where /proc/stat cannot be read (not Linux). */
function machineTicks(): CpuTicks | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string;
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, steal, total: busy + idle + iowait };
  } catch {
    return null;
  }
}

/** Starts watching; `stop` returns the load over the interval. */
export function startMachineLoadProbe(labels: { worker: string; host: string; threads: number }): { stop(): MachineLoad } {
  const startedMs = performance.now();
  const processStart = process.cpuUsage();
  const machineStart = machineTicks();
  return {
    stop() {
      const wallMs = performance.now() - startedMs;
      const used = process.cpuUsage(processStart);
      const machineEnd = machineTicks();
      const cores = availableParallelism();
      let machineBusyMs: number | null = null;
      let machineStealMs: number | null = null;
      if (machineStart && machineEnd && machineEnd.total > machineStart.total) {
        // Ticks are shares of all cores' time: scale them to this interval's wall time.
        const perTickMs = (cores * wallMs) / (machineEnd.total - machineStart.total);
        machineBusyMs = (machineEnd.busy - machineStart.busy) * perTickMs;
        machineStealMs = (machineEnd.steal - machineStart.steal) * perTickMs;
      }
      return { ...labels, cores, wallMs, processCpuMs: (used.user + used.system) / 1000, machineBusyMs, machineStealMs };
    },
  };
}
