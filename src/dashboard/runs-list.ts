/**
 * The runs list: the newest runs first, each with its verdict (or where it is, in words), plan,
 * submission time and duration, and a form (no script) that filters by plan name and verdict.
 * Bounded: only the newest `RUNS_LISTED` runs in Redis are read, and the page says when there are
 * more. Everything shown is escaped: plan names and run ids are user-written.
 */
import { Job } from 'bullmq';
import { describeRunProgress, readRunProgress, type RunQueues } from '../coordinator/distributed/watch-run';
import { reportOf } from './find-run';
import { escapeHtml } from './page-layout';
import { matchesFilter, planMatches, RUN_VERDICTS, VERDICT_LABELS, type RunsFilter, type RunVerdict } from './runs-filter';

/** The list reads this many runs, newest first: each is a Redis read, and a finished one carries its report. */
const RUNS_LISTED = 200;

const STATES = ['active', 'waiting', 'waiting-children', 'prioritized', 'delayed', 'completed', 'failed'] as const;

interface ListedRun {
  runId: string;
  plan: string;
  verdict: RunVerdict;
  /** Safe HTML: PASS, FAIL, failed, or where the run is in words. */
  result: string;
  submittedMs: number;
  /** Safe HTML. */
  duration: string;
}

/** `1 h 2 min`, `3 min 4 s`, `5.6 s`. */
function formatDuration(durationMs: number): string {
  const seconds = Math.max(0, durationMs) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.floor(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const verdictMark = (passed: boolean) => `<span class="${passed ? 'pass' : 'fail'}">${passed ? 'PASS' : 'FAIL'}</span>`;

/** One listed run; only runs still going have their phases read. */
async function listedRun(queues: RunQueues, listed: Job): Promise<ListedRun> {
  const data = listed.data as { runId?: unknown };
  const runId = typeof data.runId === 'string' ? data.runId : String(listed.id);
  const state = await queues.runs.getJobState(String(listed.id));
  // A job listed before it completed has no report in hand: read it again (its state was read first).
  const job = state === 'completed' && !reportOf(listed) ? ((await Job.fromId(queues.runs, String(listed.id))) ?? listed) : listed;
  const report = state === 'completed' ? reportOf(job) : undefined;
  const base = { runId, plan: job.name, submittedMs: job.timestamp };
  if (report)
    return {
      ...base,
      verdict: report.passed ? 'pass' : 'fail',
      result: verdictMark(report.passed),
      duration: formatDuration(report.durationMs),
    };
  if (state === 'failed') {
    const duration = job.finishedOn ? formatDuration(job.finishedOn - job.timestamp) : '';
    return { ...base, verdict: 'failed', result: '<span class="fail">failed</span>', duration };
  }
  const words = describeRunProgress((await readRunProgress(queues, runId)).progress);
  return {
    ...base,
    verdict: 'running',
    result: escapeHtml(words),
    duration: `<span class="note">${formatDuration(Date.now() - job.timestamp)} so far</span>`,
  };
}

function filterForm(filter: RunsFilter): string {
  const options = ['<option value="">any</option>']
    .concat(
      RUN_VERDICTS.map(
        (verdict) => `<option value="${verdict}"${filter.verdict === verdict ? ' selected' : ''}>${VERDICT_LABELS[verdict]}</option>`,
      ),
    )
    .join('');
  return (
    `<form class="filters" method="get" action="/runs">` +
    `<label>plan name contains<input type="search" name="plan" maxlength="200" value="${escapeHtml(filter.plan ?? '')}"></label>` +
    `<label>verdict<select name="verdict">${options}</select></label>` +
    `<button type="submit">Filter</button><a href="/runs">clear filters</a></form>`
  );
}

function runRow(run: ListedRun): string {
  const cells = [
    `<a href="/runs/${encodeURIComponent(run.runId)}">${escapeHtml(run.runId)}</a>`,
    `<a href="/runs?plan=${encodeURIComponent(run.plan)}" title="runs of this plan">${escapeHtml(run.plan)}</a>`,
    run.result,
    new Date(run.submittedMs).toISOString().replace('T', ' ').slice(0, 19) + ' UTC',
    run.duration,
  ];
  return `<tr>${cells.map((cell, index) => `<td${index === 4 ? ' class="num"' : ''}>${cell}</td>`).join('')}</tr>`;
}

/** What the list shows, in words: how many runs match, and how many were read of those in Redis. */
function countNote(shown: number, read: number, inRedis: number, filtered: boolean): string {
  const runs = (count: number) => `${count} run${count === 1 ? '' : 's'}`;
  const bounded = inRedis > read;
  const of = bounded ? `the newest ${read} of the ${runs(inRedis)} in Redis` : runs(read);
  const text = filtered ? `${shown} of ${of} match the filters.` : `${bounded ? `Showing ${of}` : runs(read)}, newest first.`;
  return `<p class="note">${text.charAt(0).toUpperCase()}${text.slice(1)}</p>`;
}

/** The body of the runs list page. */
export async function renderRunsList(queues: RunQueues, filter: RunsFilter): Promise<string> {
  const [jobs, counts] = await Promise.all([queues.runs.getJobs([...STATES], 0, RUNS_LISTED - 1), queues.runs.getJobCounts(...STATES)]);
  // Each state lists its own newest: together, the newest RUNS_LISTED of all.
  const newest = jobs.sort((a, b) => b.timestamp - a.timestamp).slice(0, RUNS_LISTED);
  const matching = newest.filter((job) => planMatches(filter, job.name));
  const runs = (await Promise.all(matching.map((job) => listedRun(queues, job)))).filter((run) =>
    matchesFilter(filter, run.plan, run.verdict),
  );
  const inRedis = Object.values(counts).reduce((sum, count) => sum + count, 0);
  const filtered = filter.plan !== undefined || filter.verdict !== undefined;
  const header = `<tr>${['run', 'plan', 'verdict', 'submitted', 'duration'].map((name) => `<th>${name}</th>`).join('')}</tr>`;
  const table =
    runs.length > 0
      ? `<table>${header}${runs.map(runRow).join('')}</table>`
      : `<p>${filtered ? 'No run matches these filters.' : 'No run in Redis yet: submit one with grym-perf run PLAN --redis URL.'}</p>`;
  const note = `<p class="note">Open a run in progress to follow it live; this list shows it as of when it was loaded.</p>`;
  return `<h1>Runs</h1>${filterForm(filter)}${countNote(runs.length, newest.length, inRedis, filtered)}${table}${note}`;
}
