/**
 * The machine-load probe with real processes: this process's CPU time against the machine's, so
 * that a busy neighbour is told apart from a busy harness.
 */
import { spawn } from 'node:child_process';
import { startMachineLoadProbe } from '../../src/worker/machine-load';

/** Spins until this process has used `cpuMs` of CPU, however long a busy machine makes that take. */
const spinCpu = (cpuMs: number) => {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= cpuMs) return;
  }
};

test("a busy loop in this process shows as its own CPU time, and in the machine's", () => {
  const probe = startMachineLoadProbe({ worker: 'w', host: 'h', threads: 1 });
  spinCpu(300);
  const load = probe.stop();
  // Measured in CPU time, not wall time: CI's shared cores may run the loop slowly, never less.
  expect(load.processCpuMs).toBeGreaterThanOrEqual(300);
  expect(load.processCpuMs).toBeLessThanOrEqual(load.wallMs * load.cores + 20);
  // The machine's busy time holds ours (ticks are 10 ms: a little slack).
  expect(load.machineBusyMs!).toBeGreaterThanOrEqual(load.processCpuMs * 0.9 - 20);
});

test('a busy neighbour process shows as machine time that is not ours', async () => {
  const neighbour = spawn(process.execPath, ['-e', 'const end = Date.now() + 1500; while (Date.now() < end);'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const probe = startMachineLoadProbe({ worker: 'w', host: 'h', threads: 1 });
    await new Promise((resolve) => setTimeout(resolve, 800));
    const load = probe.stop();
    // This process slept; the neighbour spun on one of the cores for the whole interval.
    expect(load.processCpuMs).toBeLessThan(0.2 * load.wallMs);
    expect(load.machineBusyMs! - load.processCpuMs).toBeGreaterThan(0.6 * load.wallMs);
  } finally {
    neighbour.kill('SIGKILL');
  }
});
