/**
 * The CI and alert hooks of a distributed run: a redis-server of the test's own, a `grym-perf
 * worker` child, `run --redis` following the run (the in-process mock as target), then `report`
 * of the same run writing its JUnit again from Redis. The webhook is called by the CLI that
 * followed the run, never by `report`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'test-results-parser';
import type { AlertPayload } from '../../src/coordinator/alerts/alert-payload';
import type { RunReport } from '../../src/shared/run-report';
import { runCli, spawnCli, type CliProcess } from '../helpers/cli-process';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

jest.setTimeout(120_000);

const dir = mkdtempSync(join(tmpdir(), 'grym-ci-dist-'));
let redis: TestRedis;
let worker: CliProcess;
const PREFIX = `ci${process.pid}`;

beforeAll(async () => {
  redis = await startTestRedis();
  worker = spawnCli(['worker', '--redis', redis.url, '--prefix', PREFIX, '--name', 'ci-worker', '--threads', '1']);
  await worker.waitFor(/ready on/, 30_000);
});

afterAll(async () => {
  worker?.kill('SIGTERM');
  await Promise.race([worker?.exited, new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
  worker?.kill('SIGKILL');
  await redis?.destroy();
});

test('run --redis writes --junit and calls the webhook; report writes the same JUnit from Redis and calls nothing', async () => {
  const received: Array<{ path: string; body: string }> = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/dist-token-42`;
  const plan = join(dir, 'dist.yaml');
  writeFileSync(
    plan,
    `
name: ci-dist
target: { mock: { models: [{ name: m, ttft: 20ms, tokensPerSecond: 500, loadTime: 0ms }] } }
phases:
  - name: chat
    scenario: requests
    models: [m]
    load: { concurrency: 2, duration: 1s }
    conversation: { turns: 4, promptTokens: 8, maxTokens: 8 }
    criteria: { latency.e2e.p95: "< 1ms" }
alerts:
  webhooks:
    - { urlEnv: CI_DIST_HOOK }
`,
  );
  const env = { CI_DIST_HOOK: hook, GRYM_HISTORY_DIR: join(dir, 'history'), GITHUB_STEP_SUMMARY: '' };
  const runJunit = join(dir, 'run-junit.xml');
  const reportJunit = join(dir, 'report-junit.xml');
  let runOutput: string;
  try {
    const run = await runCli(['run', plan, '--redis', redis.url, '--prefix', PREFIX, '--out', join(dir, 'run'), '--junit', runJunit], {
      env,
    });
    expect(run.code).toBe(1);
    runOutput = run.output;
    const report = JSON.parse(readFileSync(join(dir, 'run', 'report.json'), 'utf8')) as RunReport;
    expect(report.mode).toBe('distributed');
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!.body) as AlertPayload).toMatchObject({ events: ['failure'], runId: report.runId, mode: 'distributed' });

    const again = await runCli(
      ['report', report.runId, '--redis', redis.url, '--prefix', PREFIX, '--out', join(dir, 'again'), '--junit', reportJunit],
      {
        env,
      },
    );
    expect(again.code).toBe(1);
    // `report` writes the stored run's reports; the alert was the following CLI's to send.
    expect(received).toHaveLength(1);
  } finally {
    server.closeAllConnections();
    server.close();
  }
  expect(runOutput).toContain('alert: webhook $CI_DIST_HOOK (json, on failure) delivered');
  expect(runOutput).not.toContain('dist-token-42');
  for (const file of [runJunit, reportJunit]) {
    const result = parse({ type: 'junit', files: [file] });
    expect(result).toMatchObject({ total: 2, failed: 1 });
    expect(result.suites[0]!.cases.find((c) => c.status === 'FAIL')!.name).toBe('latency.e2e.p95 < 1ms');
  }
  // The same run read twice: the same XML.
  expect(readFileSync(reportJunit, 'utf8')).toBe(readFileSync(runJunit, 'utf8'));
});
