/**
 * The CPU quota a worker reads to size its default thread count: cgroup v1 and v2, a quota on an
 * ancestor, no quota, and a namespace without the cgroup files, from a folder laid out like `/`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cgroupCpuQuota } from '../../src/worker/cpu-quota';

const V1_MOUNTS = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
].join('\n');
const V2_MOUNTS = '30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'grym-cpu-quota-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function put(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

describe('cgroup CPU quota', () => {
  test('cgroup v1: quota / period of the cpu controller group, in cores', () => {
    put('/proc/self/mountinfo', V1_MOUNTS);
    put('/proc/self/cgroup', '4:memory:/w1\n2:cpu,cpuacct:/bench/w1\n0::/\n');
    put('/sys/fs/cgroup/cpu,cpuacct/bench/w1/cpu.cfs_quota_us', '25000\n');
    put('/sys/fs/cgroup/cpu,cpuacct/bench/w1/cpu.cfs_period_us', '100000\n');
    expect(cgroupCpuQuota({ root })).toBe(0.25);
  });

  test('a tighter quota on an ancestor holds, as a pod limit does for its containers', () => {
    put('/proc/self/mountinfo', V1_MOUNTS);
    put('/proc/self/cgroup', '2:cpu,cpuacct:/pod/c1\n');
    put('/sys/fs/cgroup/cpu,cpuacct/pod/c1/cpu.cfs_quota_us', '-1\n');
    put('/sys/fs/cgroup/cpu,cpuacct/pod/c1/cpu.cfs_period_us', '100000\n');
    put('/sys/fs/cgroup/cpu,cpuacct/pod/cpu.cfs_quota_us', '150000\n');
    put('/sys/fs/cgroup/cpu,cpuacct/pod/cpu.cfs_period_us', '100000\n');
    expect(cgroupCpuQuota({ root })).toBe(1.5);
  });

  test('cgroup v2: cpu.max, "max" meaning no quota', () => {
    put('/proc/self/mountinfo', V2_MOUNTS);
    put('/proc/self/cgroup', '0::/system.slice/worker.service\n');
    put('/sys/fs/cgroup/system.slice/worker.service/cpu.max', '50000 100000\n');
    put('/sys/fs/cgroup/system.slice/cpu.max', 'max 100000\n');
    expect(cgroupCpuQuota({ root })).toBe(0.5);
  });

  test('a container with its own cgroup namespace sees its group at the mount root', () => {
    put('/proc/self/mountinfo', V2_MOUNTS);
    put('/proc/self/cgroup', '0::/\n');
    put('/sys/fs/cgroup/cpu.max', '200000 100000\n');
    expect(cgroupCpuQuota({ root })).toBe(2);
  });

  test('no quota anywhere, or no cgroup files to read (a network namespace remounts /sys): null', () => {
    put('/proc/self/mountinfo', V1_MOUNTS);
    put('/proc/self/cgroup', '2:cpu,cpuacct:/\n');
    put('/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us', '-1\n');
    put('/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us', '100000\n');
    expect(cgroupCpuQuota({ root })).toBeNull();
    rmSync(join(root, 'sys'), { recursive: true });
    expect(cgroupCpuQuota({ root })).toBeNull();
    expect(cgroupCpuQuota({ root: join(root, 'missing') })).toBeNull();
  });
});
