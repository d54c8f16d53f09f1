/**
 * The CLI as users run it, in child processes: exit codes 0/1/2, reports on disk, messages that
 * name the problem, and a target that refuses connections counted rather than fatal.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
  expect(report).toMatchObject({ schemaVersion: 1, passed: true, mode: 'local', tool: { name: 'grym-perf' } });
  expect(report.phases.map((phase) => phase.name)).toEqual(['baseline', 'switch']);
  expect(report.phases[0]!.metrics.requests.total).toBeGreaterThan(10);
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
});

test('a target that refuses connections is counted, not fatal: the run completes with a report, and no secret leaks into it', async () => {
  const port = await freePort();
  const file = join(out, 'refused.yaml');
  writeFileSync(
    file,
    [
      'name: refused',
      `target: { baseUrl: "http://user:url-secret@127.0.0.1:${port}/v1", apiKeyEnv: GRYM_TEST_API_KEY, requestTimeout: 2s }`,
      'phases:',
      '  - { name: down, scenario: requests, models: [any], load: { concurrency: 2, requests: 30 }, criteria: { requests.errorRate: "< 1%" } }',
    ].join('\n'),
  );
  const dir = join(out, 'refused');
  const { code, output } = await runCli(['run', file, '--out', dir], { env: { GRYM_TEST_API_KEY: 'sk-live-key-secret' } });
  expect(code).toBe(1);
  const report = readReport(dir);
  expect(report.phases[0]!.metrics.requests).toMatchObject({ total: 30, errors: 30, byClass: { connection_refused: 30 } });
  // Reproducibility without secrets: the plan (key named, URL credentials masked), the workers.
  expect(report.resolvedPlan).toMatchObject({ target: { apiKeyEnv: 'GRYM_TEST_API_KEY', baseUrl: `http://***@127.0.0.1:${port}/v1` } });
  expect(report.workers).toEqual([expect.objectContaining({ node: process.version, threads: expect.any(Number) })]);
  for (const text of [output, readFileSync(join(dir, 'report.json'), 'utf8'), readFileSync(join(dir, 'report.md'), 'utf8')]) {
    expect(text).not.toContain('sk-live-key-secret');
    expect(text).not.toContain('url-secret');
  }
});

test('a module target whose file is missing is a plan error (exit 2); an existing one runs from the CLI', async () => {
  const missing = join(out, 'missing-module.yaml');
  writeFileSync(missing, 'name: m\ntarget: { kind: module, module: ./nope.js }\nphases: [{ name: a, scenario: requests, models: [x], load: { requests: 1 } }]\n');
  const refused = await runCli(['validate', missing]);
  expect(refused.code).toBe(2);
  expect(refused.output).toContain('target.module: no file at');

  const file = join(REPO_ROOT, 'tests', 'fixtures', 'module-plan.yaml');
  const dir = join(out, 'module');
  const { code, output } = await runCli(['run', file, '--out', dir]);
  expect({ code, output }).toMatchObject({ code: 0 });
  expect(readReport(dir).phases[0]!.metrics).toMatchObject({ requests: { total: 24, errors: 0 }, context: { preservation: 1 }, memory: { target: { source: 'thread-heap' } } });
});
