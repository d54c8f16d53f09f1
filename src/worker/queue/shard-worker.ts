/**
 * `grym-perf worker`: a BullMQ worker on the `shards` queue that runs each shard in this process's
 * Piscina pool. A worker that dies mid-shard loses only that attempt: its lock expires, BullMQ moves
 * the job back to wait, another worker runs it again, and the result records the attempts. Results
 * exist only once a shard finishes, so an abandoned attempt counts no request.
 */
import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import type { Piscina } from 'piscina';
import { toErrorPayload } from '../../shared/errors';
import { shardJobSchema } from '../../shared/job-payloads';
import { queueLayout } from '../../shared/queue-layout';
import { connectRedis } from '../../shared/redis-connection';
import type { ShardProgress, ShardTask } from '../../shared/shard-task';
import type { ShardResult } from '../../shared/shard-result';
import { runShard } from '../run-shard';
import { createWorkerPool, defaultThreads, warmWorkerPool } from '../worker-pool';
import { waitAtStartBarrier } from './start-barrier';

export interface ShardWorkerOptions {
  redisUrl: string;
  prefix?: string;
  /** Shards this process runs at once. */
  concurrency?: number;
  /** Piscina threads shared by those shards. */
  threads?: number;
  /** Recorded in results; the host name by default. */
  name?: string;
  /** How long a job's lock lives without renewal: the time to notice a dead worker. */
  lockDurationMs?: number;
  log?: (line: string) => void;
}

export interface ShardWorker {
  name: string;
  /** Stops taking jobs and finishes the running ones (`force`: hands them back at once). Idempotent. */
  close(force?: boolean): Promise<void>;
}

// Progress doubles as a heartbeat that bull-board shows; the events stream is trimmed, so at most 1/s.
const PROGRESS_INTERVAL_MS = 1000;

export async function startShardWorker(options: ShardWorkerOptions): Promise<ShardWorker> {
  const layout = queueLayout(options.prefix);
  const name = options.name ?? `${hostname()}-${process.pid}`;
  const log = options.log ?? (() => undefined);
  const concurrency = options.concurrency ?? 1;
  const threads = options.threads ?? defaultThreads();
  const pool: Piscina = createWorkerPool({ threads });
  // Load the thread module now, so that a shard's start barrier is not followed by a cold start.
  await warmWorkerPool(pool, threads);
  const connection = connectRedis(options.redisUrl, `grym-worker-${name}`);
  const barrierRedis = connectRedis(options.redisUrl, `grym-worker-${name}-barrier`);
  const lockDuration = options.lockDurationMs ?? 30_000;

  const processShard = async (job: Job): Promise<ShardResult> => {
    const data = shardJobSchema.parse(job.data);
    log(`shard ${job.id}: attempt ${job.attemptsStarted}, waiting at the start barrier`);
    const startAtMs = await waitAtStartBarrier(barrierRedis, {
      prefix: layout.prefix,
      runId: data.runId,
      phaseIndex: data.phaseIndex,
      phaseName: data.phaseInput.name,
      shardIndex: data.shardIndex,
      shardCount: data.shardCount,
      timeoutMs: data.barrierTimeoutMs,
    });
    const task: ShardTask = {
      runId: data.runId,
      planName: data.planName,
      seed: data.seed,
      phaseIndex: data.phaseIndex,
      phase: data.phaseInput,
      target: data.target,
      shardIndex: data.shardIndex,
      shardCount: data.shardCount,
      concurrency: data.concurrency,
      requests: data.requests,
      startAtMs,
    };
    let lastProgressMs = 0;
    const onProgress = (progress: ShardProgress) => {
      const now = Date.now();
      if (now - lastProgressMs < PROGRESS_INTERVAL_MS) return;
      lastProgressMs = now;
      void job.updateProgress({ ...progress, worker: name, heartbeatAt: now }).catch(() => undefined);
    };
    const result = await runShard(task, pool, { workerName: name, onProgress, maxSlices: threads });
    log(`shard ${job.id}: done, ${result.requests.ok} ok, ${result.requests.errors} errors`);
    return { ...result, shards: result.shards.map((shard) => ({ ...shard, attempts: job.attemptsStarted })) };
  };

  const worker = new Worker(layout.shards, processShard, {
    connection,
    prefix: layout.prefix,
    concurrency,
    name,
    lockDuration,
    stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
  });
  worker.on('failed', (job, error) => log(`shard ${job?.id ?? '?'} failed: ${toErrorPayload(error).message}`));
  worker.on('error', (error) => log(`worker error: ${error.message}`));
  await worker.waitUntilReady();

  let closing: Promise<void> | undefined;
  return {
    name,
    close(force = false) {
      closing ??= (async () => {
        const steps = [() => worker.close(force), () => pool.destroy(), () => barrierRedis.quit(), () => connection.quit()];
        for (const step of steps) {
          try {
            await step();
          } catch {
            // Keep closing: every step runs even when one fails.
          }
        }
      })();
      return closing;
    },
  };
}
