/**
 * A prompt longer than the context, through the real CLI: llama-server refuses it with
 *   400 {"error":{"code":400,"message":"request (1020 tokens) exceeds the available context size
 *   (512 tokens), try increasing it","type":"exceed_context_size_error",...}}
 * (`-c 1024 --parallel 2`: the context is split between the slots, 512 tokens each). Every such
 * request must be counted as `http_400`, as many as the server logged, and the server's own words
 * must reach the report (the phase's error sample), report.md and the console summary.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlanInput } from '../../src/shared/plan-schema';
import type { RunReport } from '../../src/shared/run-report';
import { runCli } from '../helpers/cli-process';
import { startLlamaServer, type TestLlamaServer } from '../helpers/llama-server';
import { recordFigures } from './helpers/record-figures';
import { logLinesWhen, serverErrors } from './helpers/server-log';

const REQUESTS = 30;

let server: TestLlamaServer;
const dir = mkdtempSync(join(tmpdir(), 'grym-real-overflow-'));

beforeAll(async () => {
  server = await startLlamaServer({ model: 'tiny-a', ctxSize: 1024, parallel: 2 });
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(`${REQUESTS} prompts over the context: all http_400, the server's exceed_context_size_error text in the report`, async () => {
  const plan: PlanInput = {
    name: 'context-overflow',
    target: { kind: 'openai', baseUrl: `${server.url}/v1`, stream: true },
    phases: [
      {
        name: 'overflow',
        scenario: 'requests',
        models: ['tiny-a'],
        load: { concurrency: 2, requests: REQUESTS, duration: '30s' },
        // ~700 filler words: over 1,000 tokens with the template, twice a slot's 512.
        conversation: { turns: 1, promptTokens: 700, maxTokens: 8 },
      },
    ],
  };
  const planPath = join(dir, 'overflow.json');
  const out = join(dir, 'out');
  writeFileSync(planPath, JSON.stringify(plan));
  const mark = server.lineCount();
  const { code, output } = await runCli(['run', planPath, '--out', out], { timeoutMs: 90_000 });
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  const { requests } = report.phases[0]!.metrics;
  const refused = serverErrors(await logLinesWhen(server, mark, (lines) => serverErrors(lines).length >= (requests.byClass.http_400 ?? 0)));
  const sample = requests.samples.http_400 ?? '';
  const markdown = readFileSync(join(out, 'report.md'), 'utf8');
  recordFigures('context-overflow', {
    exitCode: code,
    phasePassed: report.phases[0]!.passed,
    requests: requests.total,
    byClass: requests.byClass,
    serverRefused: refused.length,
    sample,
    inReportMd: markdown.includes('exceed_context_size_error'),
    inConsole: output.includes('exceed_context_size_error'),
  });

  expect(requests.total).toBe(REQUESTS);
  expect(requests.byClass).toEqual({ http_400: REQUESTS });
  expect(refused).toHaveLength(REQUESTS);
  // The sample is the server's body: its type, and one of the messages it logged.
  const body = JSON.parse(sample) as { error: { message: string; type: string } };
  expect(body.error.type).toBe('exceed_context_size_error');
  expect(refused).toContain(body.error.message);
  expect(body.error.message).toMatch(/exceeds the available context size \(512 tokens\)/);
  expect(markdown).toContain('exceed_context_size_error');
  expect(output).toContain('exceed_context_size_error');
});
