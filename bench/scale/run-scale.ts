/**
 * `npm run bench:scale`: does grym-perf scale out? Redis, the targets, the coordinator and N workers
 * each on its own simulated host (network namespaces joined by veth pairs on a private bridge), each
 * worker in its own cgroup v1 CPU group held to a quota, so that the workers, not the target, are
 * the limit. For N = 1, 2, 4 (`--workers`): throughput (short answers from a lean target) and held
 * streams (the mock's slow model); exact merged percentiles across hosts against the same requests
 * recorded in one place; and the same CPU split between 2 and 4 workers, to show what made 4 x 12.5 %
 * give less than 2 x 25 %. Prints Markdown tables; `--json FILE` writes every figure.
 *
 * Needs root, iproute2, redis-server and cgroup v1. Traffic goes only to the simulated hosts, every
 * phase is bounded in time or count, and every namespace, group and process it makes is removed at
 * the end, on failure and on Ctrl-C (and leftovers of a killed run at the next start).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMain } from './cleanup-stack';
import { runScaleCase, type ScaleCaseResult } from './run-scale-case';
import { scaleCases } from './scale-cases';
import { startScaleCluster } from './scale-cluster';
import { parseScaleOptions } from './scale-options';
import { scalePrerequisites } from './scale-preflight';
import { scaleTables, type SectionResult } from './scale-tables';
import { cleanupStale } from './simulated-hosts';

const CLI = join(__dirname, '..', '..', 'src', 'cli.js');

function median<T>(items: readonly T[], key: (item: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function progressLine(result: ScaleCaseResult, seconds: number): string {
  const rate = result.requestsPerSecond === null ? '-' : Math.round(result.requestsPerSecond).toLocaleString('en-US');
  const cpu = result.cpuPerRequestUs === null ? '-' : result.cpuPerRequestUs.toFixed(1);
  const held = result.workload === 'streams' && result.streamsHeld !== null ? `, ${Math.round(result.streamsHeld)} streams held` : '';
  const checks = result.percentileChecks.map((check) => `${check.metric} ${check.differences.length === 0 ? 'identical' : 'DIFFERENT'}`).join(', ');
  return `  ${result.label}: ${rate} requests/s${held}, ${cpu} us CPU per request${checks ? `, merged vs one place: ${checks}` : ''} (${seconds.toFixed(0)} s)`;
}

runMain(async (cleanup) => {
  const options = parseScaleOptions(process.argv.slice(2));
  const problems = await scalePrerequisites(CLI);
  if (problems.length > 0) {
    for (const problem of problems) console.error(`bench:scale: ${problem}`);
    return 2;
  }
  const stale = await cleanupStale();
  if (stale.namespaces.length + stale.cpuGroups.length > 0) {
    console.log(`removed leftovers of a killed run: ${stale.namespaces.length} namespaces, ${stale.cpuGroups.length} cgroup dirs`);
  }
  const workDir = mkdtempSync(join(tmpdir(), 'grym-scale-'));
  const paths = { cli: CLI, workDir };
  const maxWorkers = Math.max(...options.workers, options.only.includes('split') ? 4 : 1);
  const startedAt = new Date();
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').trim();
  console.log(`bench:scale: ${options.only.join(', ')}; N = ${options.workers.join(', ')}; files in ${workDir}`);
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, load average before: ${loadBefore}`);
  const cluster = await startScaleCluster(cleanup, paths, maxWorkers);

  const cases = scaleCases(options, cluster);
  const results: Array<{ section: SectionResult['section']; result: ScaleCaseResult }> = [];
  for (const [index, planned] of cases.entries()) {
    const t0 = Date.now();
    console.log(`[${index + 1}/${cases.length}] ${planned.section}: ${planned.spec.label}`);
    const result = await runScaleCase(cleanup, cluster, paths, planned.spec);
    results.push({ section: planned.section, result });
    console.log(progressLine(result, (Date.now() - t0) / 1000));
  }

  // Repetitions of a case share its label within a section: the median by requests/s stands for them.
  const grouped = new Map<string, typeof results>();
  for (const entry of results) grouped.set(`${entry.section}\u0000${entry.result.label}`, [...(grouped.get(`${entry.section}\u0000${entry.result.label}`) ?? []), entry]);
  const entries: SectionResult[] = [...grouped.values()].map((reps) => ({
    section: reps[0]!.section,
    result: median(reps, (rep) => rep.result.requestsPerSecond ?? 0).result,
    runs: reps.map((rep) => rep.result.requestsPerSecond),
  }));
  const loadAfter = readFileSync('/proc/loadavg', 'utf8').trim();
  console.log(scaleTables(entries));
  console.log(`\nload average before: ${loadBefore}; after: ${loadAfter} (other processes share the machine: see 'machine busy cores')`);
  console.log(`took ${((Date.now() - startedAt.getTime()) / 60_000).toFixed(1)} min`);

  if (options.json) {
    const machine = { cores: cpus().length, model: cpus()[0]?.model ?? null, node: process.version, loadBefore, loadAfter };
    writeFileSync(options.json, JSON.stringify({ startedAt: startedAt.toISOString(), options, machine, results }, null, 2));
    console.log(`figures written to ${options.json}`);
  }
  const failed = results.filter((entry) => entry.result.basis === 'none' || entry.result.runError !== null);
  const different = results.filter((entry) => entry.result.percentileChecks.some((check) => check.differences.length > 0));
  for (const entry of failed) console.error(`case ${entry.result.label}: ${entry.result.runError ?? 'no measured window could be read'}`);
  for (const entry of different) console.error(`case ${entry.result.label}: merged percentiles differ from one place`);
  // Requests sent = requests the target answered = requests reported = lines logged, when all are measured.
  const miscounted = results.filter(({ result }) => {
    const counted = result.report.ok + result.report.errors;
    return result.workload === 'exact' && (result.target.generations !== counted || result.log.lines !== counted);
  });
  for (const { result } of miscounted) {
    console.error(`case ${result.label}: target answered ${result.target.generations}, report counted ${result.report.ok + result.report.errors}, log holds ${result.log.lines}`);
  }
  return failed.length + different.length + miscounted.length > 0 ? 1 : 0;
});
