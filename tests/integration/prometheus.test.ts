/**
 * The Prometheus endpoints (`--metrics-port`) scraped over HTTP and read by a real parser of the
 * text format: a local `run`, two `grym-perf worker` processes of a distributed run, and the
 * dashboard. Once a run has ended, the request counts (by outcome and error class) and the TTFT
 * and e2e histogram counts equal its report's.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunReport } from '../../src/shared/run-report';
import { runCli, spawnCli, type CliProcess } from '../helpers/cli-process';
import { scrape, type Scrape } from '../helpers/prometheus-scrape';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

// Two runs of a few seconds, four CLI processes started through tsx on a loaded 2-core machine.
jest.setTimeout(150_000);

const dir = mkdtempSync(join(tmpdir(), 'grym-prometheus-'));

/** Two phases against a mock that answers 15 % of requests with HTTP 500: counts by error class to check. */
function writePlan(name: string, shards: number): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `
name: ${name}
seed: 4
target: { mock: { seed: 4, models: [{ name: m, ttft: 15ms, tokensPerSecond: 400, loadTime: 0ms, errorRate: 0.15 }] } }
phases:
  - name: first
    scenario: requests
    models: [m]
    shards: ${shards}
    load: { concurrency: 4, duration: 1500ms }
    conversation: { turns: 3, promptTokens: 8, maxTokens: 4 }
  - name: second
    scenario: requests
    models: [m]
    shards: ${shards}
    load: { concurrency: 2, duration: 1s }
    conversation: { turns: 3, promptTokens: 8, maxTokens: 4 }
`,
  );
  return file;
}

/** Every count of each phase of `report` as the metrics must show it, summed over `labels`' matches. */
function expectCountsEqual(metrics: Scrape, report: RunReport, labels: Record<string, string> = {}): void {
  for (const phase of report.phases) {
    const where = { run: report.runId, phase: phase.name, ...labels };
    const { requests, latency } = phase.metrics;
    const seen = {
      phase: phase.name,
      ok: metrics.sum('grym_requests_total', { ...where, outcome: 'ok' }),
      errors: metrics.sum('grym_requests_total', { ...where, outcome: 'error' }),
      byClass: Object.fromEntries(
        metrics
          .labelValues('grym_requests_total', 'error_class', { ...where, outcome: 'error' })
          .map((errorClass) => [errorClass, metrics.sum('grym_requests_total', { ...where, outcome: 'error', error_class: errorClass })]),
      ),
      ttft: metrics.histogramCount('grym_ttft_seconds', where),
      e2e: metrics.histogramCount('grym_e2e_seconds', where),
    };
    expect(seen).toEqual({
      phase: phase.name,
      ok: requests.ok,
      errors: requests.errors,
      byClass: requests.byClass,
      ttft: latency.ttft?.count ?? 0,
      e2e: latency.e2e?.count ?? 0,
    });
  }
}

/** The endpoint a CLI process said it serves. */
async function metricsUrl(cli: CliProcess): Promise<string> {
  return (await cli.waitFor(/metrics on (http:\/\/\S+\/metrics)/, 30_000))[1]!;
}

test('a local run: live counts while it runs, then counts equal to its report, run and phase states', async () => {
  const plan = writePlan('prom-local', 1);
  const out = join(dir, 'local');
  const cli = spawnCli(['run', plan, '--out', out, '--no-history', '--quiet', '--metrics-port', '0', '--metrics-linger', '60s']);
  try {
    const url = await metricsUrl(cli);
    // While the first phase runs, the counts grow from the windows the generator threads close.
    let live: Scrape | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      live = await scrape(url);
      if (live.sum('grym_requests_total', { phase: 'first' }) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(live!.sum('grym_requests_total', { phase: 'first' })).toBeGreaterThan(0);
    expect(live!.sum('grym_run_state', { state: 'running' })).toBe(1);

    await cli.waitFor(/serving the final metrics on/, 60_000);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
    const final = await scrape(url);
    expect(report.phases.every((phase) => phase.metrics.requests.errors > 0)).toBe(true);
    expectCountsEqual(final, report);
    // One worker label: the in-process executor's.
    expect(final.labelValues('grym_requests_total', 'worker', { run: report.runId })).toHaveLength(1);
    const state = report.aborted ? 'aborted' : report.passed ? 'passed' : 'failed';
    expect(final.sum('grym_run_state', { run: report.runId, plan: 'prom-local', state })).toBe(1);
    expect(final.sum('grym_run_state', { run: report.runId })).toBe(1);
    for (const phase of report.phases) {
      expect(final.sum('grym_phase_state', { run: report.runId, phase: phase.name, state: phase.passed ? 'passed' : 'failed' })).toBe(1);
      expect(final.sum('grym_generator_trustworthy', { run: report.runId, phase: phase.name })).toBe(
        phase.metrics.generator.trustworthy ? 1 : 0,
      );
    }
    expect(final.sum('grym_shards_running')).toBe(0);
    // The process's own metrics come along, prefixed.
    expect(final.sum('grym_process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(final.families.get('grym_nodejs_eventloop_lag_p99_seconds')?.type).toBe('GAUGE');
  } finally {
    cli.kill('SIGTERM');
  }
  expect(await cli.exited).toBe(0);
});

describe('a distributed run', () => {
  const PREFIX = `prom${process.pid}`;
  let redis: TestRedis;
  const workers: CliProcess[] = [];
  let dashboard: CliProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    for (const name of ['prom-w1', 'prom-w2']) {
      workers.push(spawnCli(['worker', '--redis', redis.url, '--prefix', PREFIX, '--name', name, '--threads', '1', '--metrics-port', '0']));
    }
    dashboard = spawnCli(['dashboard', '--redis', redis.url, '--prefix', PREFIX, '--port', '0', '--metrics-port', '0', '--no-aggregate']);
    await Promise.all([...workers.map((worker) => worker.waitFor(/ready on/, 30_000)), dashboard.waitFor(/dashboard on/, 30_000)]);
  });

  afterAll(async () => {
    for (const cli of [...workers, dashboard]) cli?.kill('SIGTERM');
    await Promise.race([
      Promise.all([...workers, dashboard].map((cli) => cli?.exited)),
      new Promise((resolve) => setTimeout(resolve, 15_000).unref()),
    ]);
    for (const cli of [...workers, dashboard]) cli?.kill('SIGKILL');
    await redis?.destroy();
  });

  test("the two workers' counts add up to the report's; the dashboard shows the run's state and phase counts", async () => {
    const plan = writePlan('prom-dist', 2);
    const out = join(dir, 'distributed');
    const run = await runCli(['run', plan, '--redis', redis.url, '--prefix', PREFIX, '--out', out, '--quiet', '--no-history']);
    expect([0, 1]).toContain(run.code);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
    expect(report.mode).toBe('distributed');

    const scrapes = await Promise.all(workers.map(async (worker) => scrape(await metricsUrl(worker))));
    // Each worker counts only what it sent, labelled with its name; together they are the report.
    const merged: Scrape = {
      families: new Map(),
      sum: (name, labels) => scrapes.reduce((total, one) => total + one.sum(name, labels), 0),
      histogramCount: (name, labels) => scrapes.reduce((total, one) => total + one.histogramCount(name, labels), 0),
      labelValues: (name, label, labels) => [...new Set(scrapes.flatMap((one) => one.labelValues(name, label, labels)))].sort(),
    };
    expectCountsEqual(merged, report);
    scrapes.forEach((one, index) => {
      expect(one.labelValues('grym_requests_total', 'worker', { run: report.runId })).toEqual([`prom-w${index + 1}`]);
      expect(one.sum('grym_requests_total', { run: report.runId })).toBeGreaterThan(0);
      expect(one.sum('grym_shards_running')).toBe(0);
    });
    // The reports name the same workers.
    expect(report.workers.map((worker) => worker.worker).sort()).toEqual(['prom-w1', 'prom-w2']);

    const board = await scrape(await metricsUrl(dashboard));
    const state = report.passed ? 'passed' : 'failed';
    expect(board.sum('grym_run_state', { run: report.runId, state })).toBe(1);
    expect(board.sum('grym_run_state', { run: report.runId })).toBe(1);
    for (const phase of report.phases) {
      expect({
        phase: phase.name,
        ok: board.sum('grym_phase_requests', { run: report.runId, phase: phase.name, outcome: 'ok' }),
        errors: board.sum('grym_phase_requests', { run: report.runId, phase: phase.name, outcome: 'error' }),
        state: board.sum('grym_phase_state', { run: report.runId, phase: phase.name, state: phase.passed ? 'passed' : 'failed' }),
      }).toEqual({ phase: phase.name, ok: phase.metrics.requests.ok, errors: phase.metrics.requests.errors, state: 1 });
    }
  });
});
