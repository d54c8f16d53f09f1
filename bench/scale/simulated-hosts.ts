/**
 * Simulated hosts on one Linux machine, for scale-out benchmarks of grym-perf: each host is a
 * network namespace with its own address on a private switch, and any process can be held to a
 * share of one core with a cgroup v1 CPU quota.
 *
 * - `createNetwork(name)` makes a "switch" namespace holding a Linux bridge; `addHost(name)` makes
 *   a host namespace whose veth is plugged into that bridge. Every link is created directly
 *   inside the private namespaces (`ip -n NS link add ... peer ... netns SWITCH`), so the root
 *   namespace never gains an address, route or link, not even for a moment.
 * - `createCpuGroup(name, { cpuShareOfOneCore })` makes a group in the cgroup v1 `cpu` and
 *   `cpuacct` hierarchies (co-mounted or not) with quota = share x period.
 * - Every name carries `grymbench-<owner pid>-`, so `cleanupStale()` can remove what a crashed run
 *   left behind, and only that: it leaves alone the things of a run whose process is still alive.
 *
 * Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for namespaces, write access to /sys/fs/cgroup),
 * iproute2, and cgroup v1 `cpu` and `cpuacct` hierarchies (a cgroup v2-only host is refused with
 * `GRYM_ERR_CGROUP_UNAVAILABLE`).
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Defaults, in one place. */
export const SIMULATED_HOST_DEFAULTS: Readonly<{ prefix: string; subnet: string; cfsPeriodUs: number; commandTimeoutMs: number; exitWaitMs: number }> = Object.freeze({
  /** Start of every namespace and cgroup name this module makes; `cleanupStale` matches on it. */
  prefix: 'grymbench-',
  /** Hosts get `.1`, `.2`, ... of this /24. Only visible inside the private switch. */
  subnet: '10.77.0.0/24',
  /** CFS period in microseconds (the kernel's default, 100 ms). */
  cfsPeriodUs: 100_000,
  /** How long one `ip` command may take before it is reported as failed. */
  commandTimeoutMs: 10_000,
  /** How long `destroy` waits for killed processes to leave a namespace or cgroup. */
  exitWaitMs: 3_000,
});

/** Interface name of every host's link (one per namespace, so the same name everywhere). */
const HOST_LINK = 'eth0';
const BRIDGE = 'br0';
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
// Kernel limits for CFS bandwidth (kernel/sched/core.c): period 1 ms .. 1 s, quota >= 1 ms.
const MIN_PERIOD_US = 1_000;
const MAX_PERIOD_US = 1_000_000;
const MIN_QUOTA_US = 1_000;
// cpu.shares: the kernel's default, and its bounds (MIN_SHARES, MAX_SHARES).
const DEFAULT_WEIGHT = 1024;
const MIN_WEIGHT = 2;
const MAX_WEIGHT = 262_144;

type SimulatedHostErrorCode =
  | 'GRYM_ERR_HOST_COMMAND_FAILED'
  | 'GRYM_ERR_HOST_OPTION_INVALID'
  | 'GRYM_ERR_HOST_DESTROYED'
  | 'GRYM_ERR_CGROUP_UNAVAILABLE'
  | 'GRYM_ERR_CGROUP_FAILED'
  | 'GRYM_ERR_HOST_CLEANUP_FAILED';

/**
 * The one error of this module: branch on `code`. Same shape as `GrymError` in src/shared
 * (kept apart because that union of codes belongs to the product, not to this bench helper).
 */
class SimulatedHostError extends Error {
  readonly code: SimulatedHostErrorCode;
  readonly details: unknown;

  constructor(code: SimulatedHostErrorCode, message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'SimulatedHostError';
    this.code = code;
    this.details = options.details;
  }
}

/** Output of a finished command. */
interface CommandOutput {
  stdout: string;
  stderr: string;
}

interface ExecFailure {
  code?: number | string;
  signal?: string;
  stderr?: string;
  killed?: boolean;
}

/** Runs a command without a shell; a failure names the command line, exit code and stderr. */
async function run(command: string, args: readonly string[], timeoutMs = SIMULATED_HOST_DEFAULTS.commandTimeoutMs): Promise<CommandOutput> {
  try {
    const { stdout, stderr } = await execFileAsync(command, [...args], { timeout: timeoutMs, encoding: 'utf8' });
    return { stdout, stderr };
  } catch (error) {
    const failure = error as ExecFailure;
    const line = [command, ...args].join(' ');
    const stderr = (failure.stderr ?? '').trim();
    let hint = '';
    if (failure.code === 'ENOENT') hint = ` (\`${command}\` not found: apt-get install iproute2)`;
    else if (/Operation not permitted|Permission denied/.test(stderr)) hint = ' (needs root: CAP_NET_ADMIN and CAP_SYS_ADMIN)';
    const how = failure.killed ? `timed out after ${timeoutMs} ms` : `exit ${failure.code ?? failure.signal ?? '?'}`;
    throw new SimulatedHostError('GRYM_ERR_HOST_COMMAND_FAILED', `\`${line}\` failed (${how}): ${stderr || '(no stderr)'}${hint}`, {
      details: { command, args: [...args], exitCode: failure.code, stderr },
      cause: error,
    });
  }
}

const ip = (args: readonly string[]): Promise<CommandOutput> => run('ip', args);

function checkName(kind: string, name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new SimulatedHostError(
      'GRYM_ERR_HOST_OPTION_INVALID',
      `${kind} name must be 1-32 letters, digits, '_' or '-', starting with a letter or digit (got ${JSON.stringify(name)})`,
    );
  }
}

function checkPrefix(prefix: string): void {
  if (!/^[a-z][a-z0-9]*-$/.test(prefix)) {
    throw new SimulatedHostError('GRYM_ERR_HOST_OPTION_INVALID', `prefix must be lowercase letters and digits ending in '-' (got ${JSON.stringify(prefix)})`);
  }
}

/** `<prefix><owner pid>-`: the owner pid lets `cleanupStale` tell a crashed run from a live one. */
function ownedPrefix(prefix: string): string {
  return `${prefix}${process.pid}-`;
}

function ownerPidOf(name: string, prefix: string): number | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const match = /^(\d+)-/.exec(name.slice(prefix.length));
  return match ? Number(match[1]) : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** SIGKILLs the given pids and waits until they are gone, so their namespace or cgroup is freed. */
async function killAndWait(pids: readonly number[], waitMs = SIMULATED_HOST_DEFAULTS.exitWaitMs): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + waitMs;
  // A zombie still holds its namespace; /proc/<pid> stays until its parent reaps it, so look at
  // the state instead of the directory.
  const running = (pid: number): boolean => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !/^\d+ \(.*\) [ZX] /s.test(stat);
    } catch {
      return false;
    }
  };
  while (pids.some(running) && Date.now() < deadline) await sleep(20);
}

/**
 * Runs every step even when one fails, then throws one error listing every failure (BullMQ's
 * `close()`).
 */
async function runAll(what: string, steps: ReadonlyArray<readonly [string, () => Promise<unknown>]>): Promise<void> {
  const failures: string[] = [];
  for (const [label, step] of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(`${label}: ${(error as Error).message}`);
    }
  }
  if (failures.length > 0) {
    throw new SimulatedHostError('GRYM_ERR_HOST_CLEANUP_FAILED', `${what}: ${failures.length} step(s) failed\n${failures.map((f) => `  - ${f}`).join('\n')}`, {
      details: { failures },
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Network namespaces

async function namespacePids(namespace: string): Promise<number[]> {
  const { stdout } = await ip(['netns', 'pids', namespace]);
  return stdout.split(/\s+/).filter(Boolean).map(Number);
}

async function listNamespaces(): Promise<string[]> {
  const { stdout } = await ip(['netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(' ')[0] ?? '')
    .filter(Boolean);
}

/** Kills what still runs in the namespace, then deletes it; a namespace already gone is fine. */
async function deleteNamespace(namespace: string): Promise<void> {
  if (!(await listNamespaces()).includes(namespace)) return;
  // A namespace whose name is deleted lives on (with its veth) while a process is inside.
  await killAndWait(await namespacePids(namespace));
  await ip(['netns', 'del', namespace]);
}

/** Options of `createNetwork`. */
export interface NetworkOptions {
  /** The /24 the hosts' addresses come from, as `a.b.c.0/24`. Default `10.77.0.0/24`. */
  subnet?: string;
  /** Name prefix matched by `cleanupStale`. Default `grymbench-`. */
  prefix?: string;
}

/** Options of `SimulatedHost.exec`: `spawn` options, plus a CPU group to start the process in. */
interface HostExecOptions extends SpawnOptions {
  /**
   * Start the process inside this CPU group: it joins the group before it execs, so no cycle is
   * spent outside the quota and every thread and child it makes is inside too.
   */
  cpuGroup?: CpuGroup;
}

/** One simulated host: a network namespace with one address on its network's switch. */
export interface SimulatedHost {
  /** The name given to `addHost`. */
  readonly name: string;
  /** The network namespace's name (`ip netns exec <namespace> ...`). */
  readonly namespace: string;
  /** The host's IPv4 address on the switch, without prefix length. */
  readonly address: string;
  /**
   * Spawns `command args` inside the namespace via `ip netns exec`. The ChildProcess's pid is the
   * command's own pid (`ip` execs into it). Killed by `destroy()` if still running.
   */
  exec(command: string, args?: readonly string[], options?: HostExecOptions): ChildProcess;
  /** Runs `command args` inside the namespace to completion; throws naming it and its stderr. */
  run(command: string, args?: readonly string[], options?: { timeoutMs?: number }): Promise<CommandOutput>;
}

/** A private switch (a bridge in its own namespace) and the hosts plugged into it. */
export interface SimulatedNetwork {
  readonly name: string;
  /** The switch namespace, holding bridge `br0` and one veth end per host. */
  readonly switchNamespace: string;
  /** `a.b.c.0/24`. */
  readonly subnet: string;
  readonly hosts: readonly SimulatedHost[];
  /** Adds a host with the next free address (`.1`, `.2`, ...); at most 254 hosts. */
  addHost(hostName: string): Promise<SimulatedHost>;
  /**
   * Kills every process still inside the network's namespaces, then deletes them (which deletes
   * their veths and the bridge). Idempotent; runs every step even when one fails and then throws
   * `GRYM_ERR_HOST_CLEANUP_FAILED` listing the failures.
   */
  destroy(): Promise<void>;
}

function parseSubnet(subnet: string): string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(subnet);
  const octets = match ? match.slice(1, 4).map(Number) : [];
  if (!match || octets.some((o) => o > 255)) {
    throw new SimulatedHostError('GRYM_ERR_HOST_OPTION_INVALID', `subnet must be a /24 written a.b.c.0/24, e.g. 10.77.0.0/24 (got ${JSON.stringify(subnet)})`);
  }
  return octets.join('.');
}

/**
 * Makes a private switch: namespace `<prefix><pid>-<name>` holding bridge `br0`. Nothing is added
 * to the root namespace. Throws `GRYM_ERR_HOST_COMMAND_FAILED` (naming the `ip` command and its
 * stderr) if the switch cannot be made, after removing whatever it had made.
 */
export async function createNetwork(name: string, options: NetworkOptions = {}): Promise<SimulatedNetwork> {
  checkName('network', name);
  const prefix = options.prefix ?? SIMULATED_HOST_DEFAULTS.prefix;
  checkPrefix(prefix);
  const subnet = options.subnet ?? SIMULATED_HOST_DEFAULTS.subnet;
  const base = parseSubnet(subnet);
  // '.' cannot occur in a user's name, so `<network>.<host>` never collides with another switch.
  const switchNamespace = `${ownedPrefix(prefix)}${name}`;
  const hosts: SimulatedHost[] = [];
  const children = new Set<ChildProcess>();
  let destroying: Promise<void> | undefined;

  await ip(['netns', 'add', switchNamespace]);
  try {
    await ip(['-n', switchNamespace, 'link', 'add', BRIDGE, 'type', 'bridge']);
    await ip(['-n', switchNamespace, 'link', 'set', BRIDGE, 'up']);
  } catch (error) {
    await deleteNamespace(switchNamespace).catch(() => undefined);
    throw error;
  }

  const makeHost = (hostName: string, namespace: string, address: string): SimulatedHost => ({
    name: hostName,
    namespace,
    address,
    exec(command, args = [], execOptions = {}) {
      if (destroying) throw new SimulatedHostError('GRYM_ERR_HOST_DESTROYED', `network ${name} is destroyed: cannot exec ${command} on ${hostName}`);
      const { cpuGroup, ...spawnOptions } = execOptions;
      const inNamespace = ['ip', 'netns', 'exec', namespace, command, ...args];
      // `ip netns exec` remounts /sys, hiding /sys/fs/cgroup, so the process joins its group from
      // a shell in the root mount namespace first; each `exec` keeps the same pid.
      const child = cpuGroup
        ? spawn('/bin/sh', ['-c', 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"', 'sh', ...cpuGroup.procsFiles, '--', ...inNamespace], spawnOptions)
        : spawn(inNamespace[0]!, inNamespace.slice(1), spawnOptions);
      children.add(child);
      child.once('exit', () => children.delete(child));
      child.once('error', () => children.delete(child));
      return child;
    },
    run(command, args = [], runOptions = {}) {
      return run('ip', ['netns', 'exec', namespace, command, ...args], runOptions.timeoutMs);
    },
  });

  return {
    name,
    switchNamespace,
    subnet: `${base}.0/24`,
    hosts,
    async addHost(hostName) {
      if (destroying) throw new SimulatedHostError('GRYM_ERR_HOST_DESTROYED', `network ${name} is destroyed: cannot add host ${hostName}`);
      checkName('host', hostName);
      if (hosts.some((h) => h.name === hostName)) {
        throw new SimulatedHostError('GRYM_ERR_HOST_OPTION_INVALID', `host ${hostName} already exists on network ${name}: pick another name`);
      }
      const index = hosts.length + 1;
      if (index > 254) throw new SimulatedHostError('GRYM_ERR_HOST_OPTION_INVALID', `network ${name} is full: a /24 holds 254 hosts`);
      const namespace = `${switchNamespace}.${hostName}`;
      const address = `${base}.${index}`;
      // Reserve the slot before the first await, so concurrent addHost calls get distinct addresses.
      const host = makeHost(hostName, namespace, address);
      hosts.push(host);
      const port = `p${index}`;
      try {
        await ip(['netns', 'add', namespace]);
        // Made inside the host's namespace with its peer sent straight to the switch: the root
        // namespace never holds either end.
        await ip(['-n', namespace, 'link', 'add', HOST_LINK, 'type', 'veth', 'peer', 'name', port, 'netns', switchNamespace]);
        await ip(['-n', switchNamespace, 'link', 'set', port, 'master', BRIDGE]);
        await ip(['-n', switchNamespace, 'link', 'set', port, 'up']);
        await ip(['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', HOST_LINK]);
        await ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
        await ip(['-n', namespace, 'link', 'set', HOST_LINK, 'up']);
      } catch (error) {
        hosts.splice(hosts.indexOf(host), 1);
        // Deleting the host's namespace deletes both veth ends.
        await deleteNamespace(namespace).catch(() => undefined);
        throw error;
      }
      return host;
    },
    destroy() {
      destroying ??= runAll(`destroy network ${name}`, [
        [
          'kill spawned processes',
          async () => {
            const pids = [...children].map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
            await killAndWait(pids);
          },
        ],
        ...hosts.map((h) => [`delete namespace ${h.namespace}`, () => deleteNamespace(h.namespace)] as const),
        [`delete namespace ${switchNamespace}`, () => deleteNamespace(switchNamespace)],
      ]);
      return destroying;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// cgroup v1 CPU groups

interface CgroupMounts {
  cpu: string;
  cpuacct: string;
}

/** Finds the cgroup v1 hierarchies holding `cpu` and `cpuacct` (co-mounted on many distros). */
function findCgroupMounts(): CgroupMounts {
  const found: Partial<CgroupMounts> = {};
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [, mountPoint, type, opts] = line.split(' ');
    if (type !== 'cgroup' || !mountPoint || !opts) continue;
    const controllers = opts.split(',');
    if (controllers.includes('cpu')) found.cpu ??= mountPoint;
    if (controllers.includes('cpuacct')) found.cpuacct ??= mountPoint;
  }
  if (!found.cpu || !found.cpuacct) {
    throw new SimulatedHostError(
      'GRYM_ERR_CGROUP_UNAVAILABLE',
      `no cgroup v1 ${found.cpu ? 'cpuacct' : 'cpu'} hierarchy in /proc/self/mounts: CPU groups need cgroup v1 cpu and cpuacct (a cgroup v2-only host is not supported)`,
    );
  }
  return { cpu: found.cpu, cpuacct: found.cpuacct };
}

function cgroupError(action: string, path: string, error: unknown): SimulatedHostError {
  const code = (error as NodeJS.ErrnoException).code;
  const hint = code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? ' (needs root and a writable /sys/fs/cgroup)' : '';
  return new SimulatedHostError('GRYM_ERR_CGROUP_FAILED', `${action} ${path} failed: ${(error as Error).message}${hint}`, {
    details: { path, errno: code },
    cause: error,
  });
}

async function writeCgroupFile(path: string, value: string): Promise<void> {
  try {
    await fs.writeFile(path, value);
  } catch (error) {
    throw cgroupError(`writing ${JSON.stringify(value)} to`, path, error);
  }
}

async function readPids(procsFile: string): Promise<number[]> {
  const text = await fs.readFile(procsFile, 'utf8');
  return text.split('\n').filter(Boolean).map(Number);
}

/** Moves every process of `dir` to the hierarchy's root (or kills them), then removes `dir`. */
async function removeCgroupDir(dir: string, root: string, leftovers: 'move-to-root' | 'kill'): Promise<void> {
  let pids: number[];
  try {
    pids = await readPids(join(dir, 'cgroup.procs'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw cgroupError('reading', join(dir, 'cgroup.procs'), error);
  }
  if (leftovers === 'kill') await killAndWait(pids);
  else {
    for (const pid of pids) {
      try {
        await fs.writeFile(join(root, 'cgroup.procs'), String(pid));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw cgroupError(`moving pid ${pid} to`, root, error);
      }
    }
  }
  // rmdir fails with EBUSY while an exiting task is still attached; it clears within milliseconds.
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 50) throw cgroupError('removing', dir, error);
      await sleep(20);
    }
  }
}

/** Options of `createCpuGroup`. */
export interface CpuGroupOptions {
  /**
   * CPU the group may use, in cores: 0.25 = a quarter of one core. Above 1 spans several cores.
   * null: no quota, the group only accounts for its CPU (cpuacct).
   */
  cpuShareOfOneCore: number | null;
  /**
   * `cpu.shares`, the group's weight against other groups and processes when the cores are
   * contended. Default 1024 (the kernel's): a group then competes like one process. A higher
   * weight lets a group under quota get its quota on a busy machine, so the quota is its limit.
   */
  weight?: number;
  /** CFS period in microseconds, 1000..1000000. Default 100000 (100 ms). */
  periodUs?: number;
  /** Name prefix matched by `cleanupStale`. Default `grymbench-`. */
  prefix?: string;
}

/** CFS throttling counters of a group (`cpu.stat`), cumulative since it was made. */
export interface ThrottleStats {
  /** Periods in which the group had runnable tasks. */
  periods: number;
  /** Of those, periods in which it ran out of quota. */
  throttledPeriods: number;
  /** Total time its tasks were held back, in seconds. */
  throttledSeconds: number;
}

/** A cgroup v1 `cpu` + `cpuacct` group with a CFS quota. */
export interface CpuGroup {
  /** The group's directory name, `<prefix><pid>-<name>`. */
  readonly name: string;
  readonly periodUs: number;
  /** -1: no quota. */
  readonly quotaUs: number;
  /** `cgroup.procs` files to write a pid to, one per hierarchy (one if co-mounted). */
  readonly procsFiles: readonly string[];
  /** Moves a process, with all its threads, into the group. Its later children start inside. */
  add(pid: number): Promise<void>;
  /** Pids now in the group. */
  pids(): Promise<number[]>;
  /** CPU time used by the group's tasks since it was made, in seconds (`cpuacct.usage`). */
  cpuSeconds(): Promise<number>;
  throttleStats(): Promise<ThrottleStats>;
  /** Moves every remaining process back to the root group, then removes the group. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Makes a CPU group limited to `cpuShareOfOneCore` of a core: quota = share x period. Throws
 * `GRYM_ERR_HOST_OPTION_INVALID` for a share whose quota would be under the kernel's 1 ms
 * minimum, `GRYM_ERR_CGROUP_UNAVAILABLE` without cgroup v1, `GRYM_ERR_CGROUP_FAILED` otherwise.
 */
export async function createCpuGroup(name: string, options: CpuGroupOptions): Promise<CpuGroup> {
  checkName('cpu group', name);
  const prefix = options.prefix ?? SIMULATED_HOST_DEFAULTS.prefix;
  checkPrefix(prefix);
  const periodUs = options.periodUs ?? SIMULATED_HOST_DEFAULTS.cfsPeriodUs;
  if (!Number.isInteger(periodUs) || periodUs < MIN_PERIOD_US || periodUs > MAX_PERIOD_US) {
    throw new SimulatedHostError('GRYM_ERR_HOST_OPTION_INVALID', `periodUs must be an integer from ${MIN_PERIOD_US} to ${MAX_PERIOD_US} (got ${periodUs})`);
  }
  const share = options.cpuShareOfOneCore;
  const quotaUs = share === null ? -1 : Math.round(share * periodUs);
  if (share !== null && (!Number.isFinite(share) || share <= 0 || quotaUs < MIN_QUOTA_US)) {
    throw new SimulatedHostError(
      'GRYM_ERR_HOST_OPTION_INVALID',
      `cpuShareOfOneCore x periodUs must be >= ${MIN_QUOTA_US} us, the kernel's minimum quota (got ${share} x ${periodUs}): raise the share or the period`,
    );
  }
  const weight = options.weight ?? DEFAULT_WEIGHT;
  if (!Number.isInteger(weight) || weight < MIN_WEIGHT || weight > MAX_WEIGHT) {
    throw new SimulatedHostError('GRYM_ERR_HOST_OPTION_INVALID', `weight must be an integer from ${MIN_WEIGHT} to ${MAX_WEIGHT} (got ${weight})`);
  }

  const mounts = findCgroupMounts();
  const fullName = `${ownedPrefix(prefix)}${name}`;
  const cpuDir = join(mounts.cpu, fullName);
  const acctDir = join(mounts.cpuacct, fullName);
  const dirs = [...new Set([cpuDir, acctDir])];
  const roots = new Map([
    [cpuDir, mounts.cpu],
    [acctDir, mounts.cpuacct],
  ]);
  const made: string[] = [];
  let destroying: Promise<void> | undefined;

  const destroy = (): Promise<void> => {
    destroying ??= runAll(
      `destroy cpu group ${fullName}`,
      made.map((dir) => [`remove ${dir}`, () => removeCgroupDir(dir, roots.get(dir)!, 'move-to-root')] as const),
    );
    return destroying;
  };

  try {
    for (const dir of dirs) {
      try {
        await fs.mkdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new SimulatedHostError('GRYM_ERR_CGROUP_FAILED', `cpu group ${dir} already exists: destroy the group of that name first`, { cause: error });
        }
        throw cgroupError('creating', dir, error);
      }
      made.push(dir);
    }
    // Quota first unlimited, so a new period never meets an old quota the kernel would refuse.
    await writeCgroupFile(join(cpuDir, 'cpu.cfs_quota_us'), '-1');
    await writeCgroupFile(join(cpuDir, 'cpu.cfs_period_us'), String(periodUs));
    await writeCgroupFile(join(cpuDir, 'cpu.cfs_quota_us'), String(quotaUs));
    if (weight !== DEFAULT_WEIGHT) await writeCgroupFile(join(cpuDir, 'cpu.shares'), String(weight));
  } catch (error) {
    await destroy().catch(() => undefined);
    throw error;
  }

  return {
    name: fullName,
    periodUs,
    quotaUs,
    procsFiles: dirs.map((dir) => join(dir, 'cgroup.procs')),
    async add(pid) {
      if (destroying) throw new SimulatedHostError('GRYM_ERR_HOST_DESTROYED', `cpu group ${fullName} is destroyed: cannot add pid ${pid}`);
      // One write to cgroup.procs moves every thread of the process.
      for (const dir of dirs) await writeCgroupFile(join(dir, 'cgroup.procs'), String(pid));
    },
    async pids() {
      const all = await Promise.all(dirs.map((dir) => readPids(join(dir, 'cgroup.procs'))));
      return [...new Set(all.flat())];
    },
    async cpuSeconds() {
      const usageNs = await fs.readFile(join(acctDir, 'cpuacct.usage'), 'utf8');
      return Number(usageNs.trim()) / 1e9;
    },
    async throttleStats() {
      const text = await fs.readFile(join(cpuDir, 'cpu.stat'), 'utf8');
      const field = (key: string): number => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      return { periods: field('nr_periods'), throttledPeriods: field('nr_throttled'), throttledSeconds: field('throttled_time') / 1e9 };
    },
    destroy,
  };
}

// ---------------------------------------------------------------------------------------------
// Leftovers of crashed runs

/** Options of `cleanupStale`. */
export interface CleanupStaleOptions {
  /** Only names starting with this are touched. Default `grymbench-`. */
  prefix?: string;
  /**
   * Also remove things whose owner process is still alive (another run in progress, or a reused
   * pid). Default false. Things owned by this process are never touched.
   */
  evenIfOwnerAlive?: boolean;
}

/** What `cleanupStale` removed. */
export interface CleanupStaleReport {
  namespaces: string[];
  cpuGroups: string[];
}

/**
 * Removes namespaces and cgroup dirs named `<prefix><pid>-...` whose owner pid is dead: leftovers
 * of a run that crashed or was SIGKILLed. Processes still inside them (started by that run) are
 * killed, since a leftover busy loop moved to the root group would run unlimited. Names without
 * the prefix are never touched. Runs every step; throws `GRYM_ERR_HOST_CLEANUP_FAILED` at the end
 * if one failed.
 */
export async function cleanupStale(options: CleanupStaleOptions = {}): Promise<CleanupStaleReport> {
  const prefix = options.prefix ?? SIMULATED_HOST_DEFAULTS.prefix;
  checkPrefix(prefix);
  const isStale = (name: string): boolean => {
    const owner = ownerPidOf(name, prefix);
    if (owner === undefined || owner === process.pid) return false;
    return options.evenIfOwnerAlive === true || !isAlive(owner);
  };
  const report: CleanupStaleReport = { namespaces: [], cpuGroups: [] };

  // Hosts (`<switch>.<host>`) sort after their switch; delete them first so no veth dangles.
  const namespaces = (await listNamespaces()).filter(isStale).sort().reverse();
  const steps: Array<readonly [string, () => Promise<unknown>]> = namespaces.map(
    (ns) =>
      [
        `delete namespace ${ns}`,
        async () => {
          await deleteNamespace(ns);
          report.namespaces.push(ns);
        },
      ] as const,
  );

  let mounts: CgroupMounts | undefined;
  try {
    mounts = findCgroupMounts();
  } catch {
    mounts = undefined; // no cgroup v1: nothing of ours can be there
  }
  if (mounts) {
    for (const root of new Set([mounts.cpu, mounts.cpuacct])) {
      const entries = await fs.readdir(root, { withFileTypes: true });
      for (const entry of entries) {
        if (!entry.isDirectory() || !isStale(entry.name)) continue;
        const dir = join(root, entry.name);
        steps.push([
          `remove cgroup ${dir}`,
          async () => {
            await removeCgroupDir(dir, root, 'kill');
            report.cpuGroups.push(dir);
          },
        ]);
      }
    }
  }
  await runAll('cleanupStale', steps);
  return report;
}

/** Names of everything of ours (any owner) now present: for checks that cleanup left nothing. */
export async function listOwnedResources(prefix = SIMULATED_HOST_DEFAULTS.prefix): Promise<{ namespaces: string[]; cgroupDirs: string[] }> {
  const namespaces = (await listNamespaces()).filter((ns) => ns.startsWith(prefix));
  const cgroupDirs: string[] = [];
  let mounts: CgroupMounts | undefined;
  try {
    mounts = findCgroupMounts();
  } catch {
    mounts = undefined;
  }
  for (const root of mounts ? new Set([mounts.cpu, mounts.cpuacct]) : []) {
    for (const entry of await fs.readdir(root, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name.startsWith(prefix)) cgroupDirs.push(join(root, entry.name));
    }
  }
  return { namespaces, cgroupDirs };
}
