/**
 * Measurements for the scale-out benchmark's design (needs root): `npx tsx bench/scale/measure.ts`.
 * 1. round-trip time: loopback (root and inside a namespace) vs two namespaces over the bridge;
 * 2. cpuacct accuracy of a busy loop held to 12.5 % and 25 % of a core, CFS period 100/20/10 ms;
 * 3. many short tasks: an HTTP server held to 12.5 % (period 100/20/10 ms) answering a client in
 *    another namespace;
 * 4. load generators: 2 at 25 % vs 4 at 12.5 % each against one unlimited server;
 * 5. how one generator's requests per CPU-second grow from its start (V8 warm-up), by quota.
 * 3 and 4 run twice: window after a 2 s and after a 10 s lead-in. Prints markdown tables;
 * `--json FILE` also writes the raw figures. Takes about 17 minutes.
 * Traffic goes only to loopback and to the simulated hosts' addresses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { runMain } from './cleanup-stack';
import { BUSY_LOOP, HTTP_LOAD, HTTP_SERVER, TCP_ECHO, TCP_PING, runProbe, startServer, type LoadResult, type PingResult } from './probes';
import { cleanupStale, createCpuGroup, createNetwork, type CpuGroup, type SimulatedHost } from './simulated-hosts';

const REPS = 3;
const WINDOW_MS = 4000;
/**
 * Wall time from a load's start to its counted window: 2 s (enough for Node to boot even at
 * 12.5 %) and 10 s (past the JIT warm-up of a 12.5 % process, see section 5).
 */
const LEAD_INS_MS = [2000, 10_000];
/** Two busy threads in one process (Node with a worker thread, as Piscina runs). */
const BUSY_TWO_THREADS = `new (require('worker_threads').Worker)('for (;;) {}', { eval: true }); for (;;) {}`;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function table(title: string, rows: Array<Record<string, string | number>>): void {
  console.log(`\n### ${title}\n`);
  const columns = Object.keys(rows[0] ?? {});
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`| ${columns.map(() => '---').join(' | ')} |`);
  for (const row of rows) console.log(`| ${columns.map((c) => row[c]).join(' | ')} |`);
}

function procCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const PERIODS_US = [100_000, 20_000, 10_000];
const raw: Record<string, unknown> = {};

runMain(async (cleanup) => {
  await cleanupStale();
  const children: ChildProcess[] = [];
  cleanup.defer('kill root-namespace children', async () => Promise.all(children.map(killAndWait)));
  const rootHost: SimulatedHost = {
    name: 'root',
    namespace: '(root)',
    address: '127.0.0.1',
    exec(command, args = [], options = {}) {
      const { cpuGroup: _ignored, ...spawnOptions } = options;
      const child = spawn(command, [...args], spawnOptions);
      children.push(child);
      return child;
    },
    run() {
      throw new Error('not used');
    },
  };

  const net = await createNetwork('measure');
  cleanup.defer('destroy network measure', () => net.destroy());
  const [a, b, s] = await Promise.all(['a', 'b', 's'].map((h) => net.addHost(h)));
  const workers = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((h) => net.addHost(h)));

  // 1. RTT ---------------------------------------------------------------------------------------
  const rttRows: Array<Record<string, string | number>> = [];
  const paths: Array<[string, SimulatedHost, SimulatedHost, string]> = [
    ['loopback, root namespace', rootHost, rootHost, '127.0.0.1'],
    ['loopback, inside host A', a!, a!, '127.0.0.1'],
    ['A -> B over veth + bridge', a!, b!, a!.address],
  ];
  let port = 9000;
  for (const [label, serverHost, clientHost, address] of paths) {
    port++;
    const echo = await startServer(serverHost, TCP_ECHO, [address, String(port)]);
    const http = await startServer(serverHost, HTTP_SERVER, [address, String(port + 100), '0']);
    const pings: PingResult[] = [];
    const https: LoadResult[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      pings.push(await runProbe<PingResult>(clientHost, TCP_PING, [address, String(port), '5000', '500'], { timeoutMs: 30_000 }));
      const start = Date.now() + 300;
      https.push(await runProbe<LoadResult>(clientHost, HTTP_LOAD, [`http://${address}:${port + 100}/`, '1', String(start), String(start + 2000)], { timeoutMs: 30_000 }));
    }
    rttRows.push({
      path: label,
      'TCP 1-byte RTT p50 us': median(pings.map((p) => p.p50Us)),
      'p90 us': median(pings.map((p) => p.p90Us)),
      'p99 us': median(pings.map((p) => p.p99Us)),
      'mean us': median(pings.map((p) => p.meanUs)),
      'HTTP keep-alive p50 us': median(https.map((h) => h.p50Us ?? NaN)),
      'HTTP p99 us': median(https.map((h) => h.p99Us ?? NaN)),
      'HTTP req/s (1 in flight)': Math.round(median(https.map((h) => h.completed / h.windowS))),
    });
    raw[`rtt ${label}`] = { pings, https };
    await Promise.all([killAndWait(echo), killAndWait(http)]);
  }
  table(`Round trip (median of ${REPS} runs; 5000 pings each, HTTP 2 s each)`, rttRows);

  // 2. cpuacct accuracy --------------------------------------------------------------------------
  const cpuRows: Array<Record<string, string | number>> = [];
  for (const [label, source] of [
    ['1 thread', BUSY_LOOP],
    ['2 threads', BUSY_TWO_THREADS],
  ] as const) {
    for (const share of [0.125, 0.25]) {
      for (const periodUs of PERIODS_US) {
        if (label === '2 threads' && periodUs === 20_000) continue;
        const group = await createCpuGroup(`acct-${periodUs}`, { cpuShareOfOneCore: share, periodUs });
        const busy = rootHost.exec(process.execPath, ['-e', source], { stdio: 'ignore' });
        await group.add(busy.pid!);
        await sleep(500);
        const before = { acct: await group.cpuSeconds(), proc: procCpuSeconds(busy.pid!), t: process.hrtime.bigint(), th: await group.throttleStats() };
        await sleep(3000);
        const after = { acct: await group.cpuSeconds(), proc: procCpuSeconds(busy.pid!), t: process.hrtime.bigint(), th: await group.throttleStats() };
        await killAndWait(busy);
        await group.destroy();
        const wallS = Number(after.t - before.t) / 1e9;
        const acctShare = (after.acct - before.acct) / wallS;
        cpuRows.push({
          process: label,
          quota: `${share * 100} %`,
          'period ms': periodUs / 1000,
          'cpuacct share': acctShare.toFixed(4),
          'error vs quota': `${(((acctShare - share) / share) * 100).toFixed(1)} %`,
          '/proc share': ((after.proc - before.proc) / wallS).toFixed(3),
          'throttled periods': `${after.th.throttledPeriods - before.th.throttledPeriods}/${after.th.periods - before.th.periods}`,
        });
      }
    }
  }
  table('Busy loop in a CPU group: CPU received over 3 s (cpuacct vs /proc/<pid>/stat)', cpuRows);
  raw.cpu = cpuRows;

  // 3. HTTP server under quota -------------------------------------------------------------------
  const serverRows: Array<Record<string, string | number>> = [];
  const serverConfigs: Array<[number | undefined, number]> = [
    [undefined, 100_000],
    [0.25, 100_000],
    [0.125, 100_000],
    [0.125, 20_000],
    [0.125, 10_000],
  ];
  for (const leadInMs of LEAD_INS_MS) {
    for (const [share, periodUs] of serverConfigs) {
      const results: Array<{ load: LoadResult; cpuShare: number; throttled: string }> = [];
      for (let rep = 0; rep < REPS; rep++) {
        port++;
        const group: CpuGroup | undefined = share === undefined ? undefined : await createCpuGroup(`srv-${periodUs}`, { cpuShareOfOneCore: share, periodUs });
        const server = await startServer(a!, HTTP_SERVER, [a!.address, String(port), '0'], group ? { cpuGroup: group } : {});
        // The client runs from now on; only the window after the lead-in is counted.
        const start = Date.now() + leadInMs;
        const end = start + WINDOW_MS;
        const loadPromise = runProbe<LoadResult>(b!, HTTP_LOAD, [`http://${a!.address}:${port}/`, '4', String(start), String(end)], { timeoutMs: 60_000 });
        await sleep(start - Date.now());
        const cpu0 = group ? await group.cpuSeconds() : procCpuSeconds(server.pid!);
        const th0 = group ? await group.throttleStats() : undefined;
        await sleep(end - Date.now());
        const cpu1 = group ? await group.cpuSeconds() : procCpuSeconds(server.pid!);
        const th1 = group ? await group.throttleStats() : undefined;
        const load = await loadPromise;
        await killAndWait(server);
        await group?.destroy();
        results.push({
          load,
          cpuShare: (cpu1 - cpu0) / (WINDOW_MS / 1000),
          throttled: th0 && th1 ? `${th1.throttledPeriods - th0.throttledPeriods}/${th1.periods - th0.periods}` : '-',
        });
      }
      serverRows.push({
        'lead-in s': leadInMs / 1000,
        'server quota': share === undefined ? 'none' : `${share * 100} %`,
        'period ms': share === undefined ? '-' : periodUs / 1000,
        'req/s (median)': Math.round(median(results.map((r) => r.load.completed / r.load.windowS))),
        'req/s runs': results.map((r) => Math.round(r.load.completed / r.load.windowS)).join(', '),
        'p50 us': median(results.map((r) => r.load.p50Us ?? NaN)),
        'p99 us': median(results.map((r) => r.load.p99Us ?? NaN)),
        'max us': median(results.map((r) => r.load.maxUs ?? NaN)),
        'server CPU share': median(results.map((r) => r.cpuShare)).toFixed(3),
        'req per server CPU-s': Math.round(median(results.map((r) => r.load.completed / r.load.windowS / r.cpuShare))),
        'throttled periods': results[0]!.throttled,
      });
      raw[`server lead-in ${leadInMs} ${share} ${periodUs}`] = results;
    }
  }
  table(`HTTP server held to a quota, unlimited client in another namespace with 4 requests in flight (window ${WINDOW_MS / 1000} s after the lead-in, ${REPS} runs)`, serverRows);

  // 4. load generators under quota ---------------------------------------------------------------
  port++;
  const target = await startServer(s!, HTTP_SERVER, [s!.address, String(port), '0']);
  const targetUrl = `http://${s!.address}:${port}/`;
  const genRows: Array<Record<string, string | number>> = [];
  const TOTAL_IN_FLIGHT = 16;
  for (const leadInMs of LEAD_INS_MS) {
    for (const periodUs of PERIODS_US) {
      for (const count of [2, 4]) {
        const share = 0.5 / count;
        const runs: Array<{ reqPerS: number; p50Us: number; p99Us: number; cpuShare: number }> = [];
        for (let rep = 0; rep < REPS; rep++) {
          const groups = await Promise.all(workers.slice(0, count).map((w) => createCpuGroup(`gen-${w.name}`, { cpuShareOfOneCore: share, periodUs })));
          const start = Date.now() + leadInMs;
          const end = start + WINDOW_MS;
          const loads = workers
            .slice(0, count)
            .map((w, i) =>
              runProbe<LoadResult>(w, HTTP_LOAD, [targetUrl, String(TOTAL_IN_FLIGHT / count), String(start), String(end)], { cpuGroup: groups[i]!, timeoutMs: 60_000 }),
            );
          await sleep(start - Date.now());
          const cpu0 = await Promise.all(groups.map((g) => g.cpuSeconds()));
          await sleep(end - Date.now());
          const cpu1 = await Promise.all(groups.map((g) => g.cpuSeconds()));
          const results = await Promise.all(loads);
          await Promise.all(groups.map((g) => g.destroy()));
          runs.push({
            reqPerS: results.reduce((sum, r) => sum + r.completed / r.windowS, 0),
            p50Us: median(results.map((r) => r.p50Us ?? NaN)),
            p99Us: Math.max(...results.map((r) => r.p99Us ?? NaN)),
            cpuShare: cpu1.reduce((sum, c, i) => sum + c - cpu0[i]!, 0) / (WINDOW_MS / 1000),
          });
        }
        genRows.push({
          'lead-in s': leadInMs / 1000,
          generators: `${count} x ${share * 100} %`,
          'period ms': periodUs / 1000,
          'total req/s (median)': Math.round(median(runs.map((r) => r.reqPerS))),
          'req/s runs': runs.map((r) => Math.round(r.reqPerS)).join(', '),
          'p50 us': Math.round(median(runs.map((r) => r.p50Us))),
          'worst p99 us': Math.round(median(runs.map((r) => r.p99Us))),
          'generators CPU share': median(runs.map((r) => r.cpuShare)).toFixed(3),
          'req per generator CPU-s': Math.round(median(runs.map((r) => r.reqPerS / r.cpuShare))),
        });
        raw[`generators lead-in ${leadInMs} ${count} ${periodUs}`] = runs;
      }
    }
  }
  await killAndWait(target);
  table(
    `Load generators held to 0.5 core in total, ${TOTAL_IN_FLIGHT} requests in flight in total, unlimited server (window ${WINDOW_MS / 1000} s after the lead-in, ${REPS} runs)`,
    genRows,
  );

  // 5. warm-up of one generator, second by second ----------------------------------------------
  port++;
  const warmTarget = await startServer(s!, HTTP_SERVER, [s!.address, String(port), '0']);
  const warmRows: Array<Record<string, string | number>> = [];
  for (const share of [0.125, 0.25, 0.5]) {
    const group = await createCpuGroup('warmup', { cpuShareOfOneCore: share });
    const start = Date.now() + 300;
    const load = await runProbe<LoadResult>(workers[0]!, HTTP_LOAD, [`http://${s!.address}:${port}/`, '8', String(start), String(start + 16_000)], { cpuGroup: group, timeoutMs: 60_000 });
    await group.destroy();
    const row: Record<string, string | number> = { quota: `${share * 100} %` };
    load.perSecond.forEach((n, i) => (row[`${i + 1} s`] = Math.round(n / share)));
    warmRows.push(row);
    raw[`warmup ${share}`] = load;
  }
  await killAndWait(warmTarget);
  table('One generator from its start (8 in flight, period 100 ms): requests per CPU-second of its quota, each second', warmRows);

  const jsonAt = process.argv.indexOf('--json');
  if (jsonAt > 0 && process.argv[jsonAt + 1]) writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify(raw, null, 2));
  return 0;
});
