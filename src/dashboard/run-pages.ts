/**
 * The runs pages next to bull-board: the runs list (filters in the query string), each run's page,
 * its live state as JSON, and its report as JSON and Markdown.
 *
 * A finished run's page is its report.html, served under a policy that allows exactly its own
 * inline scripts and styles. A run in progress gets a page that follows it live from
 * `/runs/:id/live.json`, without reloading, and loads itself once more when the run ends. A run
 * that failed without a report gets a plain page with the reason. Everything shown is escaped:
 * reports carry user-written names. Errors go to the error pages (`errorPages`) as `PageError`.
 */
import { Router } from 'express';
import type { RunQueues } from '../coordinator/distributed/watch-run';
import { renderMarkdownReport } from '../coordinator/reports/markdown-report';
import { findRun, type FoundRun } from './find-run';
import { renderLivePage } from './live-page';
import { liveRun } from './live-run';
import { escapeHtml, renderPage } from './page-layout';
import { PageError } from './page-error';
import { renderReportPage } from './report-html';
import { parseRunsFilter } from './runs-filter';
import { renderRunsList } from './runs-list';
import { newNonce, setScriptPagePolicy } from './security-headers';

export interface RunPagesOptions {
  queues: RunQueues;
  /** Removes secrets (the Redis password) from text read back from Redis, such as a failure reason. */
  redact(text: string): string;
}

function failedPage(run: FoundRun, redact: (text: string) => string): string {
  const reason = redact(run.job.failedReason ?? 'no reason recorded');
  const title = `<h1>${escapeHtml(run.job.name)}: run ${escapeHtml(run.runId)}</h1>`;
  const body = `${title}<p class="status fail">failed</p><p>${escapeHtml(reason)}</p>`;
  return renderPage(`${run.job.name}: failed`, body);
}

/** The report of a finished run, or a 404 saying where the run is. */
async function reportOrNotFound(queues: RunQueues, runId: string) {
  const run = await findRun(queues, runId);
  if (!run.report) throw new PageError(404, `run ${runId} has no report${run.ended ? '' : ' yet'}: ${run.words}`);
  return run.report;
}

export function runPages(options: RunPagesOptions): Router {
  const { queues } = options;
  const router = Router();

  router.get('/', async (request, response) => {
    const body = await renderRunsList(queues, parseRunsFilter(request.query));
    response.type('html').send(renderPage('grym-perf runs', body));
  });

  router.get('/:id', async (request, response) => {
    const run = await findRun(queues, request.params.id);
    if (run.progress.state === 'failed') return void response.type('html').send(failedPage(run, options.redact));
    const nonce = newNonce();
    if (run.report) {
      setScriptPagePolicy(response, { nonce, connect: 'none' });
      return void response.type('html').send(renderReportPage(run.report, run.runId, nonce));
    }
    setScriptPagePolicy(response, { nonce, connect: 'self' });
    // The page changes with the run: a cached copy would show a run that has moved on.
    response
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(renderLivePage(liveRun(run), nonce));
  });

  router.get('/:id/live.json', async (request, response) => {
    response.set('Cache-Control', 'no-store').json(liveRun(await findRun(queues, request.params.id)));
  });

  router.get('/:id/report.json', async (request, response) => {
    response.json(await reportOrNotFound(queues, request.params.id));
  });

  router.get('/:id/report.md', async (request, response) => {
    const report = await reportOrNotFound(queues, request.params.id);
    response.type('text/markdown; charset=utf-8').send(renderMarkdownReport(report));
  });

  return router;
}
