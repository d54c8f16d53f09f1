/**
 * The runs pages next to bull-board: a list of runs, each run's Markdown report rendered, and the
 * report as JSON and Markdown. Everything shown is escaped: reports carry user-written names.
 */
import { Router } from 'express';
import { Job, type Queue } from 'bullmq';
import MarkdownIt from 'markdown-it';
import { renderMarkdownReport } from '../coordinator/write-reports';
import type { RunReport } from '../shared/run-report';

// `html: false`: Markdown may not smuggle raw HTML into the page.
const markdown = new MarkdownIt({ html: false, linkify: false });

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left}
th{background:#f6f8fa}code{background:#f6f8fa;padding:0 .2rem}nav a{margin-right:1rem}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}
</style></head><body><nav><a href="/runs">Runs</a><a href="/board">Queues (bull-board)</a></nav>${body}</body></html>`;
}

async function finishedReport(runs: Queue, id: string): Promise<{ job?: Job; report?: RunReport; state?: string }> {
  const job = await Job.fromId(runs, id);
  if (!job) return {};
  const state = await job.getState();
  return { job, state, ...(state === 'completed' ? { report: job.returnvalue as RunReport } : {}) };
}

export function runPages(runs: Queue): Router {
  const router = Router();

  router.get('/', async (_request, response) => {
    const jobs = await runs.getJobs(['active', 'waiting', 'waiting-children', 'delayed', 'completed', 'failed'], 0, 199);
    jobs.sort((a, b) => b.timestamp - a.timestamp);
    const rows = await Promise.all(
      jobs.map(async (job) => {
        const state = await job.getState();
        const report = state === 'completed' ? (job.returnvalue as RunReport) : undefined;
        const verdict = report ? `<span class="${report.passed ? 'pass' : 'fail'}">${report.passed ? 'PASS' : 'FAIL'}</span>` : escapeHtml(state);
        const id = escapeHtml(job.id ?? '');
        return `<tr><td><a href="/runs/${encodeURIComponent(job.id ?? '')}">${id}</a></td><td>${escapeHtml(job.name)}</td><td>${verdict}</td><td>${new Date(job.timestamp).toISOString()}</td><td>${report ? `${(report.durationMs / 1000).toFixed(1)} s` : ''}</td></tr>`;
      }),
    );
    response.type('html').send(page('grym-perf runs', `<h1>Runs</h1><table><tr><th>run</th><th>plan</th><th>result</th><th>submitted</th><th>duration</th></tr>${rows.join('')}</table>`));
  });

  router.get('/:id', async (request, response) => {
    const { job, report, state } = await finishedReport(runs, request.params.id);
    if (!job) return void response.status(404).type('html').send(page('not found', `<p>No run ${escapeHtml(request.params.id)}.</p>`));
    if (!report) return void response.status(404).type('html').send(page('not finished', `<p>Run ${escapeHtml(request.params.id)} is ${escapeHtml(state ?? 'unknown')}: its report is not ready.</p>`));
    const links = `<p><a href="/runs/${encodeURIComponent(report.runId)}/report.json">report.json</a> · <a href="/runs/${encodeURIComponent(report.runId)}/report.md">report.md</a></p>`;
    response.type('html').send(page(`${report.plan.name}: ${report.passed ? 'PASS' : 'FAIL'}`, links + markdown.render(renderMarkdownReport(report))));
  });

  router.get('/:id/report.json', async (request, response) => {
    const { report } = await finishedReport(runs, request.params.id);
    if (!report) return void response.status(404).json({ error: `no finished run ${request.params.id}` });
    response.json(report);
  });

  router.get('/:id/report.md', async (request, response) => {
    const { report } = await finishedReport(runs, request.params.id);
    if (!report) return void response.status(404).type('text/plain').send(`no finished run ${request.params.id}\n`);
    response.type('text/markdown; charset=utf-8').send(renderMarkdownReport(report));
  });

  return router;
}
