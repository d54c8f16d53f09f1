/**
 * report.md and the console summary with hostile text in them: what users wrote (model names, run
 * id, plan path, worker names) and what servers sent (error bodies) renders as text, never as HTML
 * or Markdown; why a phase stopped, its top error classes with their samples, failed memory
 * readings and an interrupted run are all said in words.
 */
import MarkdownIt from 'markdown-it';
import { buildPhaseReport, buildRunReport } from '../../src/coordinator/reports/build-run-report';
import { renderSummary } from '../../src/coordinator/reports/console-summary';
import { escapeMarkdown, renderMarkdownReport } from '../../src/coordinator/reports/markdown-report';
import { parsePlan } from '../../src/shared/parse-plan';
import type { RunReport } from '../../src/shared/run-report';
import { emptyShardResult, type ShardResult } from '../../src/shared/shard-result';

const XSS = '<img src=x onerror=alert(1)>';

const plan = parsePlan(`
name: hostile-text
target: { baseUrl: "http://127.0.0.1:1/v1" }
phases:
  - { name: only, scenario: requests, models: ["${XSS}", "a|b"], load: { concurrency: 2, duration: 10s } }
  - { name: never, scenario: requests, models: [m], load: { concurrency: 1, duration: 10s } }
`);

function measured(): ShardResult {
  const result = emptyShardResult();
  result.requests = {
    ok: 3,
    good: 3,
    errors: 96,
    byClass: { http_400: 91, http_404: 4, timeout: 1 },
    samples: {
      http_400: '{"error":{"code":400,"message":"the request exceeds the available context size","type":"exceed_context_size_error"}}',
      http_404: '<html><script>alert("404")</script></html> | [a link](javascript:alert(1))',
      timeout: 'no complete response within 1000 ms (target.requestTimeout; no response headers yet)',
    },
  };
  result.stopped = {
    reason: '20 consecutive connection failures (connection_refused: connect ECONNREFUSED <127.0.0.1>:9)',
    atMs: 1_700_000_000_000,
  };
  result.memory.targetReadFailures = 7;
  result.memory.targetReadError = 'http://127.0.0.1:9/metrics did not answer within 2000 ms <b>';
  result.shards = [
    {
      shardIndex: 0,
      worker: `worker ${XSS}`,
      host: 'h<o>st',
      node: 'v20',
      cpus: 2,
      threads: 2,
      attempts: 2,
      durationMs: 10,
      firstRequestAtMs: null,
    },
  ];
  return result;
}

function report(overrides: Partial<RunReport> = {}): RunReport {
  const phases = [buildPhaseReport({ phase: plan.phases[0]!, merged: measured(), error: null })];
  const built = buildRunReport({
    runId: `run-<script>alert(1)</script>`,
    plan,
    source: '/plans/<evil>|plan.yaml',
    mode: 'local',
    startedAt: new Date(0),
    finishedAt: new Date(1000),
    phases,
  });
  return { ...built, ...overrides };
}

describe('report.md escapes what others wrote', () => {
  test('escapeMarkdown: HTML characters as entities, brackets, backslashes and pipes escaped, lines folded', () => {
    expect(escapeMarkdown(XSS)).toBe('&lt;img src=x onerror=alert(1)&gt;');
    expect(escapeMarkdown('a|b & [c](d) \\ e\nf')).toBe('a\\|b &amp; \\[c\\](d) \\\\ e f');
  });

  test('a model named <img src=x onerror=alert(1)>, a hostile run id, plan path, worker and error body: no raw HTML anywhere', () => {
    const markdown = renderMarkdownReport(report());
    expect(markdown).not.toMatch(/<img|<script|<evil|<b>|<html|h<o>st/);
    expect(markdown).toContain('&lt;img src=x onerror=alert(1)&gt;, a\\|b');
    expect(markdown).toContain('| run id | run-&lt;script&gt;alert(1)&lt;/script&gt; |');
    expect(markdown).toContain('| plan | /plans/&lt;evil&gt;\\|plan.yaml (seed');
    // Rendered as a browser would see it (markdown-it with HTML allowed, the worst case): text, no elements, no links.
    const html = new MarkdownIt({ html: true }).render(markdown);
    expect(html).not.toMatch(/<img|<script|<evil|<html|<a /);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // Every table row keeps its columns: no pipe from a name splits a cell.
    for (const row of markdown.split('\n').filter((line) => line.startsWith('| shard ') || line.startsWith('| 0 |'))) {
      expect(row.split(/(?<!\\)\|/).length).toBe(7);
    }
  });

  test('a stopped phase says why; the top error classes come with the server text; failed memory readings are counted', () => {
    const markdown = renderMarkdownReport(report());
    expect(markdown).toContain(
      '> **Phase stopped early** at 2023-11-14T22:13:20.000Z: 20 consecutive connection failures ' +
        '(connection_refused: connect ECONNREFUSED &lt;127.0.0.1&gt;:9)',
    );
    expect(markdown).toContain('  - http_400 (91): {"error":{"code":400,"message":"the request exceeds the available context size"');
    expect(markdown).toContain('exceed_context_size_error');
    expect(markdown).toContain(
      '  - http_404 (4): &lt;html&gt;&lt;script&gt;alert("404")&lt;/script&gt;&lt;/html&gt; \\| \\[a link\\](javascript:alert(1))',
    );
    expect(markdown).toMatch(/7 readings failed \(first: http:\/\/127\.0\.0\.1:9\/metrics did not answer within 2000 ms &lt;b&gt;\)/);
    expect(markdown).toContain('# grym-perf: hostile-text: FAIL ❌');
  });

  test('an interrupted run says so in its title, its first line and its mode', () => {
    const markdown = renderMarkdownReport(report({ aborted: true, passed: false }));
    expect(markdown).toContain('# grym-perf: hostile-text: INTERRUPTED ⏹');
    expect(markdown).toContain('**Interrupted** (Ctrl-C or SIGTERM): 1 of 2 phases ran, the last one stopped early');
    expect(markdown).toContain('| mode | local (interrupted) |');
    expect(renderMarkdownReport(report())).not.toContain('Interrupted');
  });
});

describe('console summary', () => {
  test('names why a phase stopped and its top error classes with their first message, one line each', () => {
    const summary = renderSummary(report({ aborted: true, passed: false }));
    expect(summary).toContain('hostile-text: INTERRUPTED (1 phases in 1.00 s');
    expect(summary).toContain('the run was interrupted: the phases not started were skipped');
    expect(summary).toContain(
      '    ⏹ stopped early: 20 consecutive connection failures (connection_refused: connect ECONNREFUSED <127.0.0.1>:9)',
    );
    const errorLines = summary.split('\n').filter((line) => / × \d+/.test(line));
    expect(errorLines).toEqual([
      expect.stringMatching(/^ {4}http_400 × 91: \{"error":\{"code":400,"message":"the request exceeds the available context size"/),
      expect.stringMatching(/^ {4}http_404 × 4: <html><script>/),
      '    timeout × 1: no complete response within 1000 ms (target.requestTimeout; no response headers yet)',
    ]);
    expect(errorLines[0]!.length).toBeLessThanOrEqual(4 + 'http_400 × 91: '.length + 160);
  });
});
