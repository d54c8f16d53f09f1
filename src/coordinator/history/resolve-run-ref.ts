/**
 * What `compare` and `run --baseline` accept for a run: a run id in the history, `latest` or
 * `latest~N` (the N-th before the newest, of the plan when one is given), or the path of a
 * report.json (no histograms: latencies then are shown, not tested).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../shared/errors';
import { parseRunId } from '../../shared/queue-layout';
import type { RunReport } from '../../shared/run-report';
import { buildHistoryEntry } from './build-history-entry';
import type { HistoryEntry } from './history-entry';
import type { HistoryStore } from './history-store';

const LATEST = /^latest(?:~(\d+))?$/;

export interface RunRefContext {
  /** `latest` counts runs of this plan only. */
  plan?: string;
  /** A run `latest` skips (the run being made, for `run --baseline latest`). */
  exclude?: string;
}

function looksLikeFile(ref: string): boolean {
  return ref.includes('/') || ref.includes('\\') || ref.endsWith('.json');
}

async function fromReportFile(path: string): Promise<HistoryEntry> {
  let report: RunReport;
  try {
    report = JSON.parse(await readFile(path, 'utf8')) as RunReport;
  } catch (error) {
    throw new UsageError(
      `cannot read report ${path} (${(error as Error).message})`,
      'give a report.json written by grym-perf run or report',
    );
  }
  if (!report || !Array.isArray(report.phases) || typeof report.runId !== 'string') {
    throw new UsageError(`${path} is not a grym-perf report.json`, 'give a report.json written by grym-perf run or report');
  }
  return buildHistoryEntry(report, []);
}

export async function resolveRunRef(store: HistoryStore, ref: string, context: RunRefContext = {}): Promise<HistoryEntry> {
  const latest = LATEST.exec(ref);
  if (latest) {
    const back = Number(latest[1] ?? 0);
    const runs = (await store.list(context.plan === undefined ? {} : { plan: context.plan })).filter(
      (run) => run.runId !== context.exclude,
    );
    const summary = runs[back];
    const ofPlan = context.plan === undefined ? '' : ` of plan ${context.plan}`;
    if (!summary) {
      throw new UsageError(
        `${ref} names run ${back + 1} back, and the history at ${store.where} holds ${runs.length} run(s)${ofPlan}`,
        'list them with `grym-perf history`, or point --history / --redis at the history that holds them',
      );
    }
    const entry = await store.load(summary.runId);
    if (!entry)
      throw new UsageError(`run ${summary.runId} expired from the history at ${store.where}`, 'list them with `grym-perf history`');
    return entry;
  }
  if (looksLikeFile(ref) || (existsSync(ref) && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(ref))) return fromReportFile(ref);
  const entry = await store.load(parseRunId(ref));
  if (entry) return entry;
  if (existsSync(ref)) return fromReportFile(ref);
  throw new UsageError(
    `run ${ref} is not in the history at ${store.where}`,
    'list the kept runs with `grym-perf history`, give --history DIR or --redis URL for another history, or a report.json path',
  );
}
