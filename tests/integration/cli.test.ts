/**
 * The CLI as users run it, in child processes: exit codes 0/1/2, reports on disk, messages that
 * name the problem, and a target that refuses connections counted rather than fatal.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunReport } from '../../src/shared/run-report';
import { REPO_ROOT, runCli } from '../helpers/cli-process';
import { freePort } from '../helpers/redis-server';

// Each case starts a CLI process that runs a few seconds of real load.
jest.setTimeout(90_000);

const out = mkdtempSync(join(tmpdir(), 'grym-cli-'));
const plan = (name: string) => join(REPO_ROOT, 'tests/fixtures/plans', name);
const readReport = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReport;

test('a plan that meets its criteria exits 0, prints a summary and writes both reports', async () => {
  const dir = join(out, 'pass');
  const { code, output } = await runCli(['run', plan('quick-pass.yaml'), '--out', dir]);
  expect(code).toBe(0);
  expect(output).toContain('quick-pass: PASS');
  expect(output).toMatch(/phase baseline \(requests\) started/);
  const report = readReport(dir);
  expect(report).toMatchObject({ schemaVersion: 2, passed: true, mode: 'local', tool: { name: 'grym-perf' } });
  expect(report.phases.map((phase) => phase.name)).toEqual(['baseline', 'switch']);
  expect(report.phases[0]!.metrics.requests.total).toBeGreaterThan(10);
  // The last progress line of each phase agrees with the report's counts.
  for (const phase of report.phases) {
    const { ok, errors } = phase.metrics.requests;
    expect(output).toMatch(new RegExp(`phase ${phase.name}: PASS in [^,]+, ${ok} ok, ${errors} errors`));
  }
  const markdown = readFileSync(join(dir, 'report.md'), 'utf8');
  expect(markdown).toContain('# grym-perf: quick-pass: PASS');
  expect(markdown).toMatch(/\| `latency.e2e.p95` \| [\d.]+ ms \| < 1.00 s \| ✅ pass \|/);
});

test('a plan that breaks a criterion exits 1 and the report says which one and by how much', async () => {
  const dir = join(out, 'fail');
  const { code, output } = await runCli(['run', plan('quick-fail.yaml'), '--out', dir]);
  expect(code).toBe(1);
  expect(output).toMatch(/✘ latency\.e2e\.p95: [\d.]+ ms is not < 5\.0 ms \(over by [\d.]+ ms\)/);
  const failed = readReport(dir).phases[0]!.criteria.find((criterion) => criterion.metric === 'latency.e2e.p95')!;
  expect(failed.passed).toBe(false);
  expect(failed.margin).toBeGreaterThan(0);
  expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(/❌ fail: over by [\d.]+ ms/);
});

test('an invalid plan exits 2 naming every field and its fix, before anything runs', async () => {
  for (const args of [['validate'], ['run', '--out', join(out, 'never')]]) {
    const { code, output } = await runCli([...args, plan('invalid.yaml')]);
    expect(code).toBe(2);
    expect(output).toContain('GRYM_ERR_PLAN_INVALID');
    expect(output).toContain('phases[0].lod: unknown key "lod" (did you mean "load"?)');
    expect(output).toContain('phases[0].criteria["latency.e2e.p95"]');
    expect(output).not.toContain('started');
  }
});

test('validate exits 0 for every shipped plan', async () => {
  for (const name of ['tdr-011.yaml', 'tdr-011-real-server.yaml', 'tdr-011-distributed.yaml']) {
    const { code, output } = await runCli(['validate', join(REPO_ROOT, 'test-plans', name)]);
    expect({ name, code, output }).toMatchObject({ code: 0 });
  }
});

test('usage errors exit 2: unknown option, missing file, --redis-only command without Redis', async () => {
  expect((await runCli(['run', plan('quick-pass.yaml'), '--frobnicate'])).code).toBe(2);
  const missing = await runCli(['run', join(out, 'no-such-plan.yaml')]);
  expect(missing.code).toBe(2);
  expect(missing.output).toContain('cannot read plan file');
  const noRedis = await runCli(['report', 'some-run'], { env: { GRYM_REDIS_URL: '' } });
  expect(noRedis.code).toBe(2);
  expect(noRedis.output).toContain('needs a Redis URL');
  const capAlone = await runCli(['run', plan('quick-pass.yaml'), '--requests-max', '5']);
  expect(capAlone).toMatchObject({ code: 2, output: expect.stringContaining('add --requests FILE') });
  const detached = await runCli(['run', plan('quick-pass.yaml'), '--redis', 'redis://127.0.0.1:1', '--detach', '--csv', join(out, 'csv')]);
  expect(detached).toMatchObject({ code: 2, output: expect.stringContaining('--detach writes nothing at the end of the run') });
  const folder = await runCli(['run', plan('quick-pass.yaml'), '--requests', out]);
  expect(folder).toMatchObject({ code: 2, output: expect.stringContaining('give --requests a place you can write to') });
});

test('--csv writes the windows and percentiles; --requests one line per request, a weighted sample past --requests-max', async () => {
  const dir = join(out, 'exports');
  const requestsFile = join(dir, 'requests.jsonl');
  const { code, output } = await runCli([
    'run',
    plan('quick-pass.yaml'),
    '--out',
    dir,
    '--csv',
    dir,
    '--requests',
    requestsFile,
    '--requests-max',
    '20',
  ]);
  expect(code).toBe(0);
  expect(output).toMatch(/exports: \S+windows\.csv \S+percentiles\.csv \S+requests\.jsonl \(\d+ requests\)/);
  const report = readReport(dir);
  const [baseline, switching] = report.phases.map((phase) => phase.metrics.requests.total) as [number, number];
  expect(baseline).toBeGreaterThan(40);
  expect(switching).toBeLessThan(20);

  const windows = readFileSync(join(dir, 'windows.csv'), 'utf8').trim().split('\n');
  expect(windows[0]).toMatch(/^phase,window_start_ms,span_ms,ok,errors,requests_per_s,/);
  expect(windows.length - 1).toBe(report.phases.reduce((total, phase) => total + phase.metrics.timeline.points.length, 0));
  expect(readFileSync(join(dir, 'percentiles.csv'), 'utf8')).toMatch(/^baseline,latency\.e2e,ms,\d+,/m);

  const lines = readFileSync(requestsFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const ofPhase = (name: string) => lines.filter((line) => line.phase === name);
  // Under the cap: every request once, standing for itself.
  expect(ofPhase('switch')).toHaveLength(switching);
  expect(ofPhase('switch').every((line) => line.weight === 1)).toBe(true);
  // Over it: a sample bounded by the cap (rounded up per thread), whose weights add up to every request sent.
  const sample = ofPhase('baseline');
  expect(sample.length).toBeGreaterThanOrEqual(20);
  expect(sample.length).toBeLessThanOrEqual(23);
  expect(sample.reduce((total, line) => total + (line.weight as number), 0)).toBeCloseTo(baseline, 6);
  const starts = sample.map((line) => line.startMs as number);
  expect(starts).toEqual([...starts].sort((a, b) => a - b));
  expect(sample[0]).toMatchObject({
    start: new Date(starts[0]!).toISOString(),
    e2eMs: expect.any(Number),
    ttftMs: expect.any(Number),
    outputTokens: expect.any(Number),
    errorClass: null,
    model: 'quick',
    conversation: expect.stringMatching(/^0\.\d+\.\w+$/),
    shard: 0,
  });
});

test('a target that refuses connections is counted, not fatal: the run completes with a report, and no secret leaks into it', async () => {
  const port = await freePort();
  const file = join(out, 'refused.yaml');
  writeFileSync(
    file,
    [
      'name: refused',
      `target: { baseUrl: "http://user:url-secret@127.0.0.1:${port}/v1", apiKeyEnv: CLI_TEST_API_KEY, requestTimeout: 2s }`,
      'phases:',
      // The abort on connection failures is off here: this test is about counting every refused request.
      '  - { name: down, scenario: requests, models: [any], load: { concurrency: 2, requests: 30 }, abort: { connectionFailures: 0 }, criteria: { requests.errorRate: "< 1%" } }',
    ].join('\n'),
  );
  const dir = join(out, 'refused');
  const { code, output } = await runCli(['run', file, '--out', dir], { env: { CLI_TEST_API_KEY: 'sk-live-key-secret' } });
  expect(code).toBe(1);
  const report = readReport(dir);
  expect(report.phases[0]!.metrics.requests).toMatchObject({ total: 30, errors: 30, byClass: { connection_refused: 30 } });
  // Reproducibility without secrets: the plan (key named, URL credentials masked), the workers.
  expect(report.resolvedPlan).toMatchObject({ target: { apiKeyEnv: 'CLI_TEST_API_KEY', baseUrl: `http://***@127.0.0.1:${port}/v1` } });
  expect(report.workers).toEqual([expect.objectContaining({ node: process.version, threads: expect.any(Number) })]);
  for (const text of [output, readFileSync(join(dir, 'report.json'), 'utf8'), readFileSync(join(dir, 'report.md'), 'utf8')]) {
    expect(text).not.toContain('sk-live-key-secret');
    expect(text).not.toContain('url-secret');
  }
});

test('a module target whose file is missing is a plan error (exit 2); an existing one runs from the CLI', async () => {
  const missing = join(out, 'missing-module.yaml');
  writeFileSync(
    missing,
    'name: m\ntarget: { kind: module, module: ./nope.js }\nphases: [{ name: a, scenario: requests, models: [x], load: { requests: 1 } }]\n',
  );
  const refused = await runCli(['validate', missing]);
  expect(refused.code).toBe(2);
  expect(refused.output).toContain('target.module: no file at');

  const file = join(REPO_ROOT, 'tests', 'fixtures', 'module-plan.yaml');
  const dir = join(out, 'module');
  const { code, output } = await runCli(['run', file, '--out', dir]);
  expect({ code, output }).toMatchObject({ code: 0 });
  expect(readReport(dir).phases[0]!.metrics).toMatchObject({
    requests: { total: 24, errors: 0 },
    context: { preservation: 1 },
    memory: { target: { source: 'thread-heap' } },
  });
});

test('target.apiKeyEnv naming an unset variable: validate warns, a local run refuses before sending anything (exit 2)', async () => {
  let received = 0;
  const server = createServer((_request, response) => {
    received++;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as { port: number }).port;
    const file = join(out, 'unset-key.yaml');
    writeFileSync(
      file,
      [
        'name: unset-key',
        `target: { baseUrl: "http://127.0.0.1:${port}/v1", apiKeyEnv: CLI_TEST_UNSET_KEY }`,
        'phases:',
        '  - { name: a, scenario: requests, models: [any], load: { requests: 2 } }',
      ].join('\n'),
    );
    const env = { CLI_TEST_UNSET_KEY: '' };
    const validated = await runCli(['validate', file], { env });
    expect(validated.code).toBe(0);
    expect(validated.output).toContain('warning: target.apiKeyEnv names CLI_TEST_UNSET_KEY, which is not set here');
    const ran = await runCli(['run', file, '--out', join(out, 'unset-key')], { env });
    expect(ran.code).toBe(2);
    expect(ran.output).toContain('error GRYM_ERR_ENV_NOT_SET: target.apiKeyEnv names CLI_TEST_UNSET_KEY, which is not set here');
    expect(received).toBe(0);
  } finally {
    server.close();
  }
});
