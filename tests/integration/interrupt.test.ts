/**
 * Ctrl-C on a local `run`, with the real CLI in a child process: the running phase stops, the
 * phases not started are skipped, both reports are written with what was measured and marked
 * aborted, the summary is printed, and the exit code is 130. A second Ctrl-C quits at once.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunReport } from '../../src/shared/run-report';
import { spawnCli } from '../helpers/cli-process';

// A CLI child loads TypeScript through tsx (a few seconds), then runs until interrupted.
jest.setTimeout(60_000);

const dir = mkdtempSync(join(tmpdir(), 'grym-interrupt-'));
const planPath = join(dir, 'long.yaml');
// Two phases of a minute each: only an interrupt ends this run within the test.
writeFileSync(
  planPath,
  `
name: long
target: { mock: { models: [{ name: m, ttft: 5ms, tokensPerSecond: 500, loadTime: 0ms }] } }
phases:
  - { name: first, scenario: requests, models: [m], load: { concurrency: 2, duration: 60s } }
  - { name: second, scenario: requests, models: [m], load: { concurrency: 2, duration: 60s } }
`,
);

test('SIGINT during a phase: exit 130, both reports written and marked aborted, with the counts measured so far', async () => {
  const out = join(dir, 'once');
  const cli = spawnCli(['run', planPath, '--out', out, '--threads', '2']);
  try {
    // The first progress line says requests are flowing (without a terminal, progress is printed as lines).
    await cli.waitFor(/ {2}first: \d+% .*\| [1-9]\d* ok/, 30_000);
    const interruptedAtMs = Date.now();
    cli.kill('SIGINT');
    expect(await cli.exited).toBe(130);
    // The phase stops at once (it had 50 s to go); reports and summary follow.
    expect(Date.now() - interruptedAtMs).toBeLessThan(10_000);
  } finally {
    cli.kill('SIGKILL');
  }
  const output = cli.output();
  expect(output).toContain('SIGINT: stopping the run');
  expect(output).toMatch(/long: INTERRUPTED/);
  expect(output).toMatch(/⏹ stopped early: interrupted/);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  expect(report).toMatchObject({ aborted: true, passed: false, mode: 'local' });
  expect(report.phases.map((phase) => phase.name)).toEqual(['first']);
  const { metrics } = report.phases[0]!;
  expect(metrics.stopped?.reason).toBe('interrupted');
  expect(metrics.requests.ok).toBeGreaterThan(0);
  expect(metrics.requests.errors).toBe(0);
  const markdown = readFileSync(join(out, 'report.md'), 'utf8');
  expect(markdown).toContain('# grym-perf: long: INTERRUPTED');
  expect(markdown).toContain('**Interrupted** (Ctrl-C or SIGTERM): 1 of 2 phases ran');
  expect(markdown).toContain('> **Phase stopped early**');
});

test('a second SIGINT quits at once with 130, without waiting for the first one to finish', async () => {
  // A memory source that drips a byte a second: after the first SIGINT the run waits up to 2 s for a
  // last memory reading, so there is a window in which the second one must cut it short.
  const drip = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => response.write('#'), 1000);
    response.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => drip.listen(0, '127.0.0.1', resolve));
  const metricsUrl = `http://127.0.0.1:${(drip.address() as AddressInfo).port}/metrics`;
  const slowPlan = join(dir, 'slow-memory.yaml');
  writeFileSync(
    slowPlan,
    readFileSync(planPath, 'utf8').replace(
      'loadTime: 0ms }] }',
      `loadTime: 0ms }] }, memory: { source: prometheus, url: "${metricsUrl}" }`,
    ),
  );
  const out = join(dir, 'twice');
  const cli = spawnCli(['run', slowPlan, '--out', out, '--threads', '2']);
  try {
    await cli.waitFor(/ {2}first: \d+% .*\| [1-9]\d* ok/, 30_000);
    cli.kill('SIGINT');
    await cli.waitFor(/SIGINT: stopping the run/);
    const secondAtMs = Date.now();
    cli.kill('SIGINT');
    expect(await cli.exited).toBe(130);
    // At once: well before the 2 s the first interrupt's run would still take.
    expect(Date.now() - secondAtMs).toBeLessThan(1500);
  } finally {
    cli.kill('SIGKILL');
    drip.closeAllConnections();
    drip.close();
  }
  expect(cli.output()).toContain('SIGINT again: quitting without reports');
  expect(existsSync(join(out, 'report.json'))).toBe(false);
});
