/**
 * The metrics of a local run (`grym-perf run --metrics-port`): the executor is wrapped so that its
 * shards' progress and results feed the request metrics, and the run's events set the run and
 * phase states. Nothing here runs in a generator thread.
 */
import { hostname } from 'node:os';
import type { RunReport } from '../../shared/run-report';
import type { ShardExecutor, ShardTaskData } from '../../shared/shard-task';
import type { GrymMetrics } from '../../shared/monitoring/grym-metrics';
import { markPhaseState, markRunReport, markRunState } from '../../shared/monitoring/run-state-metrics';
import { ShardMetricsFeed, type ShardRef } from '../../shared/monitoring/shard-metrics-feed';
import type { RunEvent } from '../run-events';

export interface LocalRunMetrics {
  /** The executor, its shards feeding the metrics. */
  executor: ShardExecutor;
  onEvent(event: RunEvent): void;
  /** The run's final state and each phase's generator verdict, from its report. */
  onReport(report: RunReport): void;
}

/** The worker label of a local run's shards: the name the in-process executor records in the report. */
const localWorkerLabel = () => `${hostname()}-local`;

export function localRunMetrics(metrics: GrymMetrics, executor: ShardExecutor, plan: string): LocalRunMetrics {
  const feed = new ShardMetricsFeed(metrics);
  const worker = localWorkerLabel();
  const refOf = (task: ShardTaskData): ShardRef => ({
    run: task.runId,
    phase: task.phase.name,
    phaseIndex: task.phaseIndex,
    shardIndex: task.shardIndex,
    worker,
  });
  let runId = '';
  const instrumented: ShardExecutor = {
    async runPhase(tasks, onProgress) {
      const refs = tasks.map(refOf);
      for (const ref of refs) feed.shardStarted(ref);
      try {
        const results = await executor.runPhase(tasks, (progress) => {
          const ref = refs.find((candidate) => candidate.shardIndex === progress.shardIndex);
          if (ref) feed.progress(ref, progress);
          onProgress?.(progress);
        });
        results.forEach((result, index) => feed.shardEnded(refs[index] as ShardRef, result));
        return results;
      } catch (error) {
        for (const ref of refs) feed.shardEnded(ref, null);
        throw error;
      }
    },
    close: () => executor.close(),
  };
  return {
    executor: instrumented,
    onEvent(event) {
      if (event.type === 'run-start') {
        runId = event.runId;
        markRunState(metrics, runId, plan, 'running');
      } else if (event.type === 'phase-start') markPhaseState(metrics, runId, event.phaseIndex, event.name, 'running');
      else if (event.type === 'phase-end') markPhaseState(metrics, runId, event.phaseIndex, event.name, event.passed ? 'passed' : 'failed');
    },
    onReport: (report) => markRunReport(metrics, report),
  };
}
