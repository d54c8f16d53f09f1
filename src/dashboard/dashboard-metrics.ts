/**
 * The dashboard's Prometheus metrics (`dashboard --metrics-port`): the state of the runs in Redis,
 * read at each scrape. Requests are counted by the workers that send them (their own endpoints);
 * the dashboard adds what only Redis knows: each run's state and phase, each phase's counts so far
 * as a gauge (final from the report once the run ends), and the report's verdicts. Bounded: the
 * runs still going and the newest few that ended.
 */
import { Queue } from 'bullmq';
import { readRunProgress, type RunProgress, type RunQueues } from '../coordinator/distributed/watch-run';
import { closeAll } from '../shared/close-all';
import type { GrymMetrics } from '../shared/monitoring/grym-metrics';
import { markPhaseState, markRunReport, markRunState } from '../shared/monitoring/run-state-metrics';
import { queueLayout } from '../shared/queue-layout';
import { connectRedis } from '../shared/redis-connection';
import { reportOf } from './find-run';

const GOING = ['active', 'waiting', 'waiting-children', 'prioritized', 'delayed'] as const;
const ENDED = ['completed', 'failed'] as const;
/** Runs read per scrape: every one going (up to this many), and the newest ended ones. */
const GOING_RUNS = 100;
const ENDED_RUNS = 20;

export interface DashboardMetrics {
  /** Reads the runs from Redis into the gauges: run before each scrape. */
  collect(): Promise<void>;
  close(): Promise<void>;
}

function markRunning(metrics: GrymMetrics, runId: string, plan: string, progress: RunProgress): void {
  markRunState(metrics, runId, plan, 'running');
  for (const phase of progress.phases) {
    const ok = phase.shards.reduce((sum, shard) => sum + shard.completed, 0);
    const errors = phase.shards.reduce((sum, shard) => sum + shard.errors, 0);
    metrics.phaseRequests.set({ run: runId, phase: phase.name, outcome: 'ok' }, ok);
    metrics.phaseRequests.set({ run: runId, phase: phase.name, outcome: 'error' }, errors);
  }
  // The phase the run is in: the first whose job has not ended.
  const current = progress.phases.find((phase) => phase.state !== 'completed' && phase.state !== 'failed');
  if (current && current.shards.some((shard) => shard.state === 'active'))
    markPhaseState(metrics, runId, current.phaseIndex, current.name, 'running');
}

export function dashboardMetrics(options: { redisUrl: string; prefix?: string; metrics: GrymMetrics }): DashboardMetrics {
  const { metrics } = options;
  const layout = queueLayout(options.prefix);
  // Fails fast while Redis is away: the scrape answers 500 rather than hanging.
  const connection = connectRedis(options.redisUrl, 'grym-dashboard-metrics', { failFast: true });
  const [runs, phases, shards] = [layout.runs, layout.phases, layout.shards].map(
    (name) => new Queue(name, { connection, prefix: layout.prefix }),
  ) as [Queue, Queue, Queue];
  const queues: RunQueues = { runs, phases, shards };
  const gauges = [metrics.runState, metrics.runPhase, metrics.phaseState, metrics.phaseRequests, metrics.trustworthy];

  return {
    async collect() {
      const [going, ended] = await Promise.all([runs.getJobs([...GOING], 0, GOING_RUNS - 1), runs.getJobs([...ENDED], 0, ENDED_RUNS - 1)]);
      const newestEnded = ended.sort((a, b) => b.timestamp - a.timestamp).slice(0, ENDED_RUNS);
      const read = await Promise.all(
        [...going, ...newestEnded].map(async (job) => {
          const data = job.data as { runId?: unknown };
          const runId = typeof data.runId === 'string' ? data.runId : String(job.id);
          return { runId, plan: job.name, ...(await readRunProgress(queues, runId)) };
        }),
      );
      // Runs that left the list (removed, or older than the newest ended) leave the gauges too.
      for (const gauge of gauges) gauge.reset();
      for (const { runId, plan, job, progress } of read) {
        const report = job && progress.state === 'completed' ? reportOf(job) : undefined;
        if (report) {
          markRunReport(metrics, report);
          for (const phase of report.phases) {
            metrics.phaseRequests.set({ run: runId, phase: phase.name, outcome: 'ok' }, phase.metrics.requests.ok);
            metrics.phaseRequests.set({ run: runId, phase: phase.name, outcome: 'error' }, phase.metrics.requests.errors);
          }
        } else if (progress.state === 'failed') markRunState(metrics, runId, plan, 'failed');
        else if (progress.state !== 'missing') markRunning(metrics, runId, plan, progress);
      }
    },
    close: () => closeAll([...[runs, phases, shards].map((queue) => () => queue.close()), () => connection.quit()]),
  };
}
