/**
 * What `run` does with the history: before the run, find the `--baseline` (a wrong one stops the
 * run before anything is sent, exit 2); after it, keep the run and compare it with the baseline.
 * A history that cannot be written is told, and never fails the run.
 */
import type { RunComparison } from '../coordinator/comparison';
import { buildHistoryEntry, openHistoryStore, resolveRunRef, type HistoryEntry, type HistoryLocation } from '../coordinator/history';
import { EXIT, UsageError } from '../shared/errors';
import type { RunReport } from '../shared/run-report';
import type { ShardResult } from '../shared/shard-result';
import { historyLocation, type HistoryFlags } from './history-options';

export interface RunHistoryFlags extends HistoryFlags {
  baseline?: string;
}

export interface RunHistory {
  /** Whether the phases' merged results are wanted (for a distributed run, they are then fetched from Redis). */
  readonly keeps: boolean;
  /** Keeps the run; with a baseline, prints the comparison: exit 1 on a regression, else 0. */
  finish(report: RunReport, phaseResults: ReadonlyArray<ShardResult | null>): Promise<{ exitCode: number; comparison?: RunComparison }>;
}

async function withStore<T>(location: HistoryLocation, work: (store: Awaited<ReturnType<typeof openHistoryStore>>) => Promise<T>) {
  const store = await openHistoryStore(location);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

export async function startRunHistory(flags: RunHistoryFlags, planName: string): Promise<RunHistory> {
  const location = historyLocation(flags);
  if (flags.baseline !== undefined && !location) {
    throw new UsageError('--baseline compares with a run in the history, and --no-history turns it off', 'drop --no-history');
  }
  let baseline: HistoryEntry | undefined;
  if (flags.baseline !== undefined && location) {
    const ref = flags.baseline;
    baseline = await withStore(location, (store) => resolveRunRef(store, ref, { plan: planName }));
  }
  return {
    keeps: location !== undefined,
    async finish(report, phaseResults) {
      if (!location) return { exitCode: EXIT.passed };
      const entry = buildHistoryEntry(report, phaseResults);
      const calibration = await withStore(location, async (store) => {
        try {
          await store.save(entry);
          console.log(`history: run ${report.runId} kept in ${store.where}`);
        } catch (error) {
          console.error(`history: run ${report.runId} was not kept in ${store.where} (${(error as Error).message})`);
        }
        if (!baseline || report.aborted) return undefined;
        // The noise of the earlier runs like this one widens the default thresholds of noisy metrics.
        // Loaded here, with a baseline: it brings in the comparison's statistics (~100 ms of every launch).
        const { loadNoiseCalibration } = await import('../coordinator/trend/noise-calibration.js');
        return loadNoiseCalibration(store, entry).catch((error: unknown) => {
          console.error(`history: not read for the noise calibration (${(error as Error).message}): default thresholds apply`);
          return undefined;
        });
      });
      if (!baseline) return { exitCode: EXIT.passed };
      if (report.aborted) {
        console.log(`not compared with ${baseline.runId}: this run was interrupted`);
        return { exitCode: EXIT.passed };
      }
      // Loaded here, with a baseline: the comparison's statistics cost every run ~120 ms of its launch.
      const { compareRuns, renderComparisonMarkdown } = require('../coordinator/comparison') as typeof import('../coordinator/comparison');
      const comparison = compareRuns(baseline, entry, calibration);
      console.log(renderComparisonMarkdown(comparison));
      return { exitCode: comparison.verdict === 'regressed' ? EXIT.failed : EXIT.passed, comparison };
    },
  };
}
