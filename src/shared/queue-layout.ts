/**
 * Where a distributed run lives in Redis. One prefix (in braces, so that on Redis Cluster all of a
 * queue's keys share a slot) and three queues:
 * - `runs`: one job per run, the aggregate parent; its return value is the `RunReport` and its job
 *   log holds the Markdown summary (readable on the run's page in bull-board);
 * - `phases`: one job per phase, chained so that phase k waits for phase k-1; it fans out the shards;
 * - `shards`: the load itself, pulled by `grym-perf worker` processes.
 * Nothing here connects: this module only names things.
 */

export const DEFAULT_PREFIX = 'grym';

export interface QueueLayout {
  /** BullMQ `prefix` option: the user's prefix wrapped in braces. */
  prefix: string;
  runs: string;
  phases: string;
  shards: string;
}

export function queueLayout(prefix: string = DEFAULT_PREFIX): QueueLayout {
  if (!/^[\w-]+$/.test(prefix)) throw new Error(`queue prefix must be letters, digits, _ and - (got "${prefix}")`);
  return { prefix: `{${prefix}}`, runs: 'runs', phases: 'phases', shards: 'shards' };
}

// BullMQ job ids cannot contain ':' and cannot look like integers; ours start with a letter.
// Re-adding an existing id is a no-op, so a re-submitted run id never runs twice.

export function runJobId(runId: string): string {
  return runId;
}

export function phaseJobId(runId: string, phaseIndex: number): string {
  return `${runId}.p${phaseIndex}`;
}

export function shardJobId(runId: string, phaseIndex: number, shardIndex: number): string {
  return `${runId}.p${phaseIndex}.s${shardIndex}`;
}

/** A run id from the plan name and the time: readable, sortable, no ':' and never integer-like. */
export function newRunId(planName: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const suffix = Math.random().toString(36).slice(2, 6);
  return `${planName}-${stamp}-${suffix}`;
}

/** A Redis URL with its password (and user) replaced, for logs and messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
