/**
 * Target memory sources against a real llama-server.
 *
 * `pid`: the resident memory of the server process and all its descendants. In router mode the
 * models run in child processes (the router alone is ~13 MB, tiny-b's process ~110 MB), so a source
 * that read only the given process would miss nearly all of it. Checked against /proc read
 * directly (helpers/process-tree-rss.ts), idle readings exactly, and a phase's last sample.
 *
 * `prometheus`: llama-server exposes no byte metric at all (no process_resident_memory_bytes,
 * nothing about memory), only token counters and gauges. The source is tested on a metric it does
 * expose, `llamacpp:n_tokens_max` (a running maximum: its last reading is its peak, a count of
 * tokens reported as one), through the real CLI; and a metric it does not expose fails the run and
 * names the metric (it used to pass with "peak n/a", the reason only in report.md).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalExecutor } from '../../src/worker';
import { targetMemoryReader } from '../../src/worker/memory/read-target-memory';
import type { PlanInput } from '../../src/shared/plan-schema';
import type { TargetMemory } from '../../src/shared/resolved-target';
import type { RunReport } from '../../src/shared/run-report';
import { runCli } from '../helpers/cli-process';
import { realServersCache, startLlamaServer, type TestLlamaServer } from '../helpers/llama-server';
import { recordFigures } from './helpers/record-figures';
import { watchModelEvents } from './helpers/model-events';
import { processTreeRss, totalRssBytes } from './helpers/process-tree-rss';
import { runPhase } from './helpers/run-phase';
import { metricsPage, prometheusValue } from './helpers/server-counters';

const executor = createLocalExecutor({ threads: 1 });
const dir = mkdtempSync(join(tmpdir(), 'grym-real-memory-'));
const MB = 1e6;

afterAll(async () => {
  await executor.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A pid reading bracketed by two direct /proc readings: idle, all three agree. */
async function bracketedPidReading(pid: number) {
  const before = processTreeRss(pid);
  const reading = await targetMemoryReader({ source: 'pid', pid })!();
  const after = processTreeRss(pid);
  return {
    before,
    reading,
    after,
    low: Math.min(totalRssBytes(before), totalRssBytes(after)),
    high: Math.max(totalRssBytes(before), totalRssBytes(after)),
  };
}

function memoryPlan(
  url: string,
  memory: Exclude<TargetMemory, { source: 'thread-heap' }>,
  phase: Partial<PlanInput['phases'][number]>,
): PlanInput {
  return {
    name: 'memory',
    target: { kind: 'openai', baseUrl: `${url}/v1`, stream: false, memory },
    phases: [
      {
        name: 'memory',
        scenario: 'requests',
        models: ['tiny-a'],
        load: { concurrency: 2, requests: 40, duration: '30s' },
        conversation: { turns: 4, promptTokens: 24, maxTokens: 16 },
        memory: { interval: '100ms' },
        ...phase,
      },
    ],
  };
}

/** Runs `plan` with the real CLI; its exit code, output and report.json. */
async function runPlanWithCli(name: string, plan: PlanInput) {
  const planPath = join(dir, `${name}.json`);
  const out = join(dir, `${name}-out`);
  writeFileSync(planPath, JSON.stringify(plan));
  const { code, output } = await runCli(['run', planPath, '--out', out, '--quiet'], { timeoutMs: 90_000 });
  const read = (file: string) => readFileSync(join(out, file), 'utf8');
  return { code, output, report: () => JSON.parse(read('report.json')) as RunReport, markdown: () => read('report.md') };
}

describe('one model (tiny-a)', () => {
  let server: TestLlamaServer;

  beforeAll(async () => {
    server = await startLlamaServer({ model: 'tiny-a' });
  });

  afterAll(async () => {
    await server?.stop();
  });

  test('pid: a reading is the VmRSS /proc shows; a phase samples it and its last sample is what /proc shows after', async () => {
    const idle = await bracketedPidReading(server.pid);
    const report = await runPhase(executor, memoryPlan(server.url, { source: 'pid', pid: server.pid }, {}));
    const direct = totalRssBytes(processTreeRss(server.pid));
    const target = report.metrics.memory.target;
    recordFigures('memory-pid-single', {
      idleReadingBytes: idle.reading,
      idleProcBytes: [idle.low, idle.high],
      phaseSamples: target.samples.length,
      phasePeakBytes: target.peak,
      phaseLastSampleBytes: target.samples.at(-1)?.bytes,
      procAfterPhaseBytes: direct,
      failedReadings: target.failedReadings,
    });

    expect(idle.reading).toBeGreaterThanOrEqual(idle.low);
    expect(idle.reading).toBeLessThanOrEqual(idle.high);
    expect(target.source).toBe('pid');
    expect(target.failedReadings).toBe(0);
    expect(target.samples.length).toBeGreaterThanOrEqual(5);
    // The last sample is taken as the phase ends, the server idle from then on: nothing moves its RSS.
    expect(target.samples.at(-1)?.bytes).toBe(direct);
    expect(target.peak).toBeGreaterThanOrEqual(direct);
  });

  test('prometheus: llamacpp:n_tokens_max (a count) read through a run is what /metrics says, last reading = peak', async () => {
    const plan = memoryPlan(
      server.url,
      { source: 'prometheus', url: `${server.url}/metrics`, metric: 'llamacpp:n_tokens_max', unit: 'count' },
      {},
    );
    const run = await runPlanWithCli('prometheus-n-tokens-max', plan);
    expect(run.code).toBe(0);
    const direct = prometheusValue(await metricsPage(server.url), 'llamacpp:n_tokens_max');
    const target = run.report().phases[0]!.metrics.memory.target;
    const printed = run
      .markdown()
      .split('\n')
      .find((line) => line.includes('Memory (target'));
    recordFigures('memory-prometheus-n-tokens-max', {
      metricsPage: direct,
      peak: target.peak,
      lastSample: target.samples.at(-1)?.bytes,
      samples: target.samples.length,
      failedReadings: target.failedReadings,
      reportMdLine: printed ?? null,
    });

    expect(target.source).toBe('prometheus');
    expect(target.failedReadings).toBe(0);
    expect(direct).toBeGreaterThan(0);
    expect(target.samples.at(-1)?.bytes).toBe(direct);
    expect(target.peak).toBe(direct);
    // A count of tokens, printed as one: never as bytes, never judged as a leak.
    expect(target).toMatchObject({ unit: 'count', verdict: expect.stringMatching(/not-bytes|insufficient-data/) });
    expect(printed).toContain(`peak ${direct},`);
    expect(printed).not.toMatch(/\d (B|kB|MB)\b/);
  });

  test('prometheus: a metric the server does not expose fails the run, naming the metric', async () => {
    const metric = 'process_resident_memory_bytes';
    const plan = memoryPlan(
      server.url,
      { source: 'prometheus', url: `${server.url}/metrics`, metric, unit: 'bytes' },
      { load: { concurrency: 1, requests: 10, duration: '10s' } },
    );
    const run = await runPlanWithCli('prometheus-missing', plan);
    const target = run.report().phases[0]?.metrics.memory.target;
    recordFigures('memory-prometheus-missing', {
      exitCode: run.code,
      consoleNamesMetric: run.output.includes(metric),
      output: run.output.trim().split('\n').slice(-6),
      peak: target?.peak ?? null,
      failedReadings: target?.failedReadings ?? null,
      readError: target?.readError ?? null,
    });

    expect(run.code).toBe(1);
    expect(run.output).toContain(`no sample of ${metric}`);
    expect(target?.unreadable).toContain(metric);
  });
});

describe('router (tiny-a and tiny-b, each in its own child process)', () => {
  let server: TestLlamaServer;

  beforeAll(async () => {
    server = await startLlamaServer({ modelsDir: realServersCache().modelsDir, modelsMax: 1 });
  });

  afterAll(async () => {
    await server?.stop();
  });

  test('pid: a reading is the router plus its model process, as /proc shows', async () => {
    const events = await watchModelEvents(server.url);
    try {
      await fetch(`${server.url}/models/load`, { method: 'POST', body: JSON.stringify({ model: 'tiny-b' }) });
      await events.until((seen) => seen.some((event) => event.model === 'tiny-b' && event.status === 'loaded'));
    } finally {
      await events.close();
    }
    const idle = await bracketedPidReading(server.pid);
    const [router, ...models] = idle.after;
    recordFigures('memory-pid-router-idle', {
      readingBytes: idle.reading,
      procBytes: [idle.low, idle.high],
      processes: idle.after.map((member) => `${member.pid} ${member.command} ${(member.rssBytes / MB).toFixed(1)} MB`),
    });

    expect(models).toHaveLength(1);
    // The model's process holds nearly all of it: reading the router alone would miss it.
    expect(models[0]!.rssBytes).toBeGreaterThan(5 * router!.rssBytes);
    expect(idle.reading).toBeGreaterThanOrEqual(idle.low);
    expect(idle.reading).toBeLessThanOrEqual(idle.high);
  });

  test('pid: a model-switch phase samples the router and the model loaded at each moment', async () => {
    const plan: PlanInput = {
      ...memoryPlan(server.url, { source: 'pid', pid: server.pid }, {}),
      phases: [
        {
          name: 'switching',
          scenario: 'model-switch',
          models: ['tiny-a', 'tiny-b'],
          switch: { cycles: 2, requestsPerModel: 3 },
          conversation: { turns: 6, promptTokens: 16, maxTokens: 8 },
          memory: { interval: '50ms' },
        },
      ],
    };
    const report = await runPhase(executor, plan);
    const after = processTreeRss(server.pid);
    const target = report.metrics.memory.target;
    const bytes = target.samples.map((sample) => sample.bytes);
    recordFigures('memory-pid-router-phase', {
      samples: bytes.length,
      minBytes: Math.min(...bytes),
      peakBytes: target.peak,
      lastSampleBytes: bytes.at(-1),
      procAfterPhaseBytes: totalRssBytes(after),
      procAfterPhase: after.map((member) => `${member.command} ${(member.rssBytes / MB).toFixed(1)} MB`),
      failedReadings: target.failedReadings,
      errors: report.metrics.requests.byClass,
    });

    expect(target.failedReadings).toBe(0);
    expect(bytes.length).toBeGreaterThanOrEqual(5);
    // The phase ends on tiny-b, idle: its last sample is the router plus tiny-b's process.
    expect(after).toHaveLength(2);
    expect(bytes.at(-1)).toBe(totalRssBytes(after));
    expect(target.peak).toBeGreaterThanOrEqual(totalRssBytes(after));
  });
});
