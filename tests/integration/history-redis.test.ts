/**
 * The shared history: two distributed runs submitted from two CLI processes are kept in the
 * run's Redis (with the retention asked for) and compared from a third process, which reads them
 * from nowhere else.
 */
import IORedis from 'ioredis';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { RunComparison } from '../../src/coordinator/comparison';
import type { HistoryEntry } from '../../src/coordinator/history';
import { decodeHistogram } from '../../src/shared/histogram';
import { REPO_ROOT, runCli, spawnCli, type CliProcess } from '../helpers/cli-process';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

jest.setTimeout(180_000);

const work = mkdtempSync(join(tmpdir(), 'grym-history-redis-'));
const plan = join(REPO_ROOT, 'tests/fixtures/plans/history-aa.yaml');
const prefix = 'histtest';
let redis: TestRedis;
let worker: CliProcess;

beforeAll(async () => {
  redis = await startTestRedis();
  worker = spawnCli(['worker', '--redis', redis.url, '--prefix', prefix, '--name', 'w1', '--threads', '1']);
  await worker.waitFor(/ready on/);
});

afterAll(async () => {
  worker?.kill('SIGTERM');
  await Promise.race([worker?.exited, new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
  worker?.kill('SIGKILL');
  await redis?.destroy();
});

async function distributedRun(name: string): Promise<string> {
  // Each run from its own CLI process, and no local history: the Redis one is the only place it is kept.
  const { code, output } = await runCli(
    ['run', plan, '--redis', redis.url, '--prefix', prefix, '--out', join(work, name), '--history-retention', '2h', '--quiet'],
    { env: { GRYM_HISTORY_DIR: '' } },
  );
  expect({ code, output }).toMatchObject({ code: 0 });
  const runId = /history: run (\S+) kept in (\S+)/.exec(output);
  expect(runId?.[2]).toBe(`redis://127.0.0.1:${redis.port}`);
  return runId![1]!;
}

test('two distributed runs kept in Redis from two CLIs are listed and compared from a third', async () => {
  const first = await distributedRun('first');
  const second = await distributedRun('second');

  const client = new IORedis(redis.url);
  try {
    const ttl = await client.pttl(`{${prefix}}:history:run:${first}`);
    expect(ttl).toBeGreaterThan(3_600_000);
    expect(ttl).toBeLessThanOrEqual(7_200_000);
    expect(await client.zrevrange(`{${prefix}}:history:plan:history-aa`, 0, -1)).toEqual([second, first]);
  } finally {
    client.disconnect();
  }

  const listed = await runCli(['history', '--redis', redis.url, '--prefix', prefix]);
  expect(listed.code).toBe(0);
  expect(listed.output).toMatch(new RegExp(`${second} +history-aa .* pass +distributed`));
  expect(listed.output).toMatch(new RegExp(`${first} +history-aa .* pass +distributed`));

  const json = join(work, 'comparison.json');
  const markdown = join(work, 'comparison.md');
  const html = join(work, 'comparison.html');
  const compared = await runCli([
    'compare',
    'latest~1',
    'latest',
    '--redis',
    redis.url,
    '--prefix',
    prefix,
    '--json',
    json,
    '--markdown',
    markdown,
    '--html',
    html,
  ]);
  const comparison = JSON.parse(readFileSync(json, 'utf8')) as RunComparison;
  expect(comparison.base.runId).toBe(first);
  expect(comparison.new.runId).toBe(second);
  expect(comparison.base.source).toBe('history');
  // The distributed runs' histograms came back from Redis: latencies were tested, not just shown
  // (unless a run's generator was untrustworthy on the loaded machine: then, by design, no timing is judged).
  const e2e = comparison.phases[0]!.metrics.find((metric) => metric.metric === 'latency.e2e.p50')!;
  if (/load generator/.test(e2e.reason)) expect(comparison.warnings.join('\n')).toMatch(/load generator/);
  else expect(e2e.samples![0]).toBeGreaterThan(300);
  const client2 = new IORedis(redis.url);
  try {
    const stored = JSON.parse(gunzipSync((await client2.getBuffer(`{${prefix}}:history:run:${second}`))!).toString('utf8')) as HistoryEntry;
    expect(decodeHistogram(stored.phases[0]!.histograms.e2eUs).totalCount).toBeGreaterThan(300);
  } finally {
    client2.disconnect();
  }
  // An A/A pair; on a loaded machine a tail can move, so the exit code is checked against the verdict rather than fixed.
  expect(compared.code).toBe(comparison.verdict === 'regressed' ? 1 : 0);
  expect(readFileSync(markdown, 'utf8')).toContain('## grym-perf comparison:');
  const page = readFileSync(html, 'utf8');
  expect(page).toContain('End-to-end latency over time');
  expect(page).toContain('"BASE p50"');
});
