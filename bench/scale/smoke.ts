/**
 * Smoke test of the simulated hosts (needs root): `npx tsx bench/scale/smoke.ts`.
 * 1. a network of 3 hosts: an HTTP server on A, requests from B (node) and C (curl);
 * 2. isolation: the root namespace is unchanged and has no way to 10.77.0.0/24, and the same
 *    address on another network is another host;
 * 3. a busy loop held to 25 % of a core by a CPU group, measured with cpuacct over 3 s;
 * 4. both at once: an HTTP server inside a host's namespace and a CPU group, under load;
 * 5. everything removed, checked with `ip netns list` and the cgroup hierarchies.
 * Exits 0 only if every check passed. Traffic goes only to the simulated hosts' addresses.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { runMain } from './cleanup-stack';
import { BUSY_LOOP, HTTP_LOAD, HTTP_SERVER, runProbe, startServer, type LoadResult } from './probes';
import { cleanupStale, createCpuGroup, createNetwork, listOwnedResources, SIMULATED_HOST_DEFAULTS } from './simulated-hosts';

const execFileAsync = promisify(execFile);
const PORT = '8080';
const OURS = `${SIMULATED_HOST_DEFAULTS.prefix}${process.pid}-`;

const failures: string[] = [];
function check(ok: boolean, what: string): void {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

/** Everything about the root namespace's network that this tool must not change. */
async function rootNetworkState(): Promise<string> {
  const parts = await Promise.all(
    [['-o', 'addr'], ['-o', 'link'], ['route'], ['-6', 'route'], ['rule']].map((args) => execFileAsync('ip', args).then((r) => r.stdout)),
  );
  // Address lifetimes count down on their own.
  return parts.join('\n').replace(/(valid|preferred)_lft \S+/g, '');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** CPU seconds of one process from /proc (clock ticks of 10 ms): a check independent of cpuacct. */
function procCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

runMain(async (cleanup) => {
  const stale = await cleanupStale();
  console.log(`stale leftovers removed: ${stale.namespaces.length} namespaces, ${stale.cpuGroups.length} cgroup dirs`);
  const rootBefore = await rootNetworkState();

  console.log('\n1. network of 3 hosts');
  const net = await createNetwork('smoke');
  cleanup.defer('destroy network smoke', () => net.destroy());
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((h) => net.addHost(h)));
  for (const host of [a!, b!, c!]) console.log(`  host ${host.name}: ${host.address} in namespace ${host.namespace}`);
  await startServer(a!, HTTP_SERVER, [a!.address, PORT, '0']);
  const url = `http://${a!.address}:${PORT}/`;
  const start = Date.now() + 300;
  const load = await runProbe<LoadResult>(b!, HTTP_LOAD, [url, '1', String(start), String(start + 1000)], { timeoutMs: 10_000 });
  console.log(`  B -> A, 1 request in flight for 1 s: ${load.completed} ok, ${load.errors} errors, p50 ${load.p50Us} us, p99 ${load.p99Us} us`);
  check(load.completed > 100 && load.errors === 0, 'B reaches the HTTP server on A');
  const curl = await c!.run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{time_total}', url]);
  console.log(`  C -> A with curl: status and seconds = ${curl.stdout}`);
  check(curl.stdout.startsWith('200 '), 'C reaches A with curl');

  console.log('\n2. isolation');
  const rootRoute = (await execFileAsync('ip', ['route', 'get', a!.address])).stdout.trim();
  const rootAddrs = (await execFileAsync('ip', ['-o', '-4', 'addr'])).stdout;
  console.log(`  root namespace: ip route get ${a!.address} -> ${rootRoute.split('\n')[0]}`);
  // Not probed with a packet from the root namespace: it would leave by the default gateway, to
  // a network that is not ours. No address and no route of the root namespace covers the subnet.
  check(!rootAddrs.includes(' 10.77.') && !/^10\.77\./m.test((await execFileAsync('ip', ['route'])).stdout), 'root namespace has no address or route in 10.77.0.0/24');
  check(!rootRoute.includes(' dev br') && !rootRoute.startsWith('local'), 'root namespace would not route 10.77.0.1 to any link of ours');
  const other = await createNetwork('smoke2');
  cleanup.defer('destroy network smoke2', () => other.destroy());
  await other.addHost('x');
  const y = await other.addHost('y');
  const fromOther = await y.run('curl', ['-sS', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', url]).then(
    (r) => `status ${r.stdout}`,
    (error: Error) => error.message.split('\n')[0]!,
  );
  console.log(`  host y on another network, same subnet, curl ${url}: ${fromOther.replace(/^.*?: /, '')}`);
  check(!fromOther.startsWith('status 200'), 'the same address on another switch is another host (A unreachable)');

  console.log('\n3. busy loop in a CPU group at 25 %');
  const busyGroup = await createCpuGroup('busy', { cpuShareOfOneCore: 0.25 });
  cleanup.defer('destroy cpu group busy', () => busyGroup.destroy());
  const busy = spawn(process.execPath, ['-e', BUSY_LOOP], { stdio: 'ignore' });
  cleanup.defer('kill busy loop', async () => busy.kill('SIGKILL'));
  await busyGroup.add(busy.pid!);
  await sleep(500);
  const [cpu0, proc0, t0] = [await busyGroup.cpuSeconds(), procCpuSeconds(busy.pid!), process.hrtime.bigint()];
  await sleep(3000);
  const [cpu1, proc1, t1] = [await busyGroup.cpuSeconds(), procCpuSeconds(busy.pid!), process.hrtime.bigint()];
  const wallS = Number(t1 - t0) / 1e9;
  const share = (cpu1 - cpu0) / wallS;
  const throttle = await busyGroup.throttleStats();
  console.log(`  cpuacct: ${share.toFixed(3)} of a core over ${wallS.toFixed(2)} s; /proc/<pid>/stat: ${((proc1 - proc0) / wallS).toFixed(3)}`);
  console.log(`  throttled in ${throttle.throttledPeriods} of ${throttle.periods} periods`);
  check(Math.abs(share - 0.25) <= 0.03, 'busy loop got 0.25 +- 0.03 of a core');
  busy.kill('SIGKILL');

  console.log('\n4. a process in a namespace and a CPU group at once');
  const serverGroup = await createCpuGroup('server', { cpuShareOfOneCore: 0.25 });
  cleanup.defer('destroy cpu group server', () => serverGroup.destroy());
  const server = await startServer(c!, HTTP_SERVER, [c!.address, PORT, '20000'], { cpuGroup: serverGroup });
  const identified = (await execFileAsync('ip', ['netns', 'identify', String(server.pid)])).stdout.trim();
  const cgroups = readFileSync(`/proc/${server.pid}/cgroup`, 'utf8');
  console.log(`  server pid ${server.pid}: namespace ${identified}; cgroups ${cgroups.split('\n').filter((l) => /:cpu/.test(l)).join(' ')}`);
  check(identified === c!.namespace, 'server runs in host C\'s namespace');
  check(cgroups.includes(`/${serverGroup.name}`), 'server runs in the CPU group');
  const g0 = await serverGroup.cpuSeconds();
  const loadStart = Date.now() + 300;
  const loaded = await runProbe<LoadResult>(b!, HTTP_LOAD, [`http://${c!.address}:${PORT}/`, '8', String(loadStart), String(loadStart + 3000)], { timeoutMs: 15_000 });
  const serverShare = ((await serverGroup.cpuSeconds()) - g0) / ((Date.now() - loadStart + 300) / 1000);
  console.log(`  B -> C, 8 in flight for 3 s: ${(loaded.completed / loaded.windowS).toFixed(0)} req/s, p50 ${loaded.p50Us} us, p99 ${loaded.p99Us} us; server used ${serverShare.toFixed(3)} of a core`);
  check(loaded.completed > 0 && serverShare <= 0.28, 'server answered and stayed within its 25 % quota');

  console.log('\n5. cleanup');
  const cleanupFailures = await cleanup.run();
  for (const failure of cleanupFailures) check(false, `cleanup: ${failure}`);
  const left = await listOwnedResources(OURS);
  console.log(`  ip netns list: ${(await execFileAsync('ip', ['netns', 'list'])).stdout.trim() || '(empty)'}`);
  check(left.namespaces.length === 0, `no namespace of ours is left (${left.namespaces.join(', ') || 'none'})`);
  check(left.cgroupDirs.length === 0, `no cgroup dir of ours is left (${left.cgroupDirs.join(', ') || 'none'})`);
  check((await rootNetworkState()) === rootBefore, 'root namespace addresses, links, routes and rules are unchanged');

  console.log(failures.length === 0 ? '\nsmoke: all checks passed' : `\nsmoke: ${failures.length} check(s) failed`);
  return failures.length === 0 ? 0 : 1;
});
