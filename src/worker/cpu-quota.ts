/**
 * The CPU a process may use under a cgroup CPU quota (Docker `--cpus`, a Kubernetes CPU limit, a
 * systemd `CPUQuota`), in cores. Node 20's `availableParallelism()` counts the cores the process
 * may run on, not the quota: a worker held to a quarter of one core of a 2-core machine started two
 * generator threads, each compiling its own request path and paying its own timers within the same
 * quarter core, and spent 90-114 us of CPU per request where one thread spent 41-51 us
 * (`npm run bench:scale`, the split section).
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

/** Where to read: `/` on a real system; a test gives a folder laid out the same way. */
interface CpuQuotaSources {
  root: string;
}

function read(root: string, path: string): string | null {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    return null;
  }
}

/** cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us`, or v2 `cpu.max` ("max 100000" or "25000 100000"): cores, null if unlimited. */
function coresAt(root: string, dir: string, version: 1 | 2): number | null {
  if (version === 2) {
    const [quota, period] = (read(root, posix.join(dir, 'cpu.max')) ?? '').trim().split(/\s+/);
    return quota && quota !== 'max' && Number(period) > 0 ? Number(quota) / Number(period) : null;
  }
  const quota = Number(read(root, posix.join(dir, 'cpu.cfs_quota_us')));
  const period = Number(read(root, posix.join(dir, 'cpu.cfs_period_us')));
  return quota > 0 && period > 0 ? quota / period : null;
}

/**
 * The tightest CPU quota on the process's cgroup and its ancestors, in cores (a quota set on a
 * parent, as Kubernetes sets a pod's, holds for every group below it); null when there is none or
 * the cgroup files cannot be read (not Linux, or /sys/fs/cgroup not mounted in this namespace).
 */
export function cgroupCpuQuota(sources: CpuQuotaSources = { root: '/' }): number | null {
  const membership = read(sources.root, '/proc/self/cgroup');
  const mounts = read(sources.root, '/proc/self/mountinfo');
  if (membership === null || mounts === null) return null;
  let tightest: number | null = null;
  for (const line of mounts.split('\n')) {
    // mountinfo: id parent major:minor root mount-point options [optional...] - type source super-options
    const [left, right] = line.split(' - ');
    const fields = left?.split(' ') ?? [];
    const [type, , superOptions = ''] = right?.split(' ') ?? [];
    const mountRoot = fields[3];
    const mountPoint = fields[4];
    if (!mountRoot || !mountPoint) continue;
    const version = type === 'cgroup2' ? 2 : type === 'cgroup' && superOptions.split(',').includes('cpu') ? 1 : null;
    if (version === null) continue;
    // /proc/self/cgroup: "hierarchy-id:controllers:path"; v2's line is "0::path".
    const entry = membership
      .split('\n')
      .map((member) => member.split(':'))
      .find(([id, controllers]) => (version === 2 ? id === '0' && controllers === '' : (controllers ?? '').split(',').includes('cpu')));
    const path = entry?.slice(2).join(':');
    if (path === undefined || !path.startsWith(mountRoot)) continue;
    // From the process's group up to the mount's root, the tightest quota wins.
    let dir = posix.join(mountPoint, path.slice(mountRoot.length));
    for (;;) {
      const cores = coresAt(sources.root, dir, version);
      if (cores !== null) tightest = Math.min(tightest ?? cores, cores);
      if (dir === mountPoint || dir === '/') break;
      dir = posix.dirname(dir);
    }
  }
  return tightest;
}
