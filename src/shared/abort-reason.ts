/**
 * The one judge of a phase's abort conditions (`phase.abort`): given the counts that the
 * conditions read, says which one holds, in words. A shard's threads judge the counts of their
 * own shard as each outcome arrives; a phase control judges the counts merged from every shard of
 * the phase (`phaseStopReason`). Both call this function, so a condition means the same and reads
 * the same wherever it is judged.
 */
import type { Phase } from './phase-schema';

/** What the abort conditions read. */
export interface AbortCounts {
  /** Consecutive requests that never reached the server (refused, DNS failure, connect timeout, reset before any response). */
  connectionRun: number;
  /** Consecutive failed requests of any class. */
  failureRun: number;
  /** Requests and failures over the error-rate window ending now; null when the rate is not judged here. */
  window: { requests: number; failures: number } | null;
}

/** Whether a phase has any abort condition to judge (none: its shards need not report their counts). */
export function hasAbortConditions(abort: Phase['abort']): boolean {
  return abort.connectionFailures > 0 || abort.consecutiveFailures > 0 || abort.errorRate !== undefined;
}

/** A duration in the words of a stop reason: 3600000 -> "1 h", 90000 -> "1.5 min", 5000 -> "5 s". */
export function spokenDuration(ms: number): string {
  const round = (value: number) => String(Math.round(value * 10) / 10);
  if (ms >= 3_600_000) return `${round(ms / 3_600_000)} h`;
  if (ms >= 60_000) return `${round(ms / 60_000)} min`;
  if (ms >= 1000) return `${round(ms / 1000)} s`;
  return `${Math.round(ms)} ms`;
}

const percent = (ratio: number) => `${Math.round(ratio * 1000) / 10}%`;

/**
 * The condition that holds, in words, or null. `example` is a failure that counted ("http_500:
 * model crashed"), quoted so that people see what failed. Thresholds are named as written: a
 * run counted past its threshold still reads "20 consecutive ...".
 */
export function abortReason(abort: Phase['abort'], counts: AbortCounts, example: string | null): string | null {
  if (abort.connectionFailures > 0 && counts.connectionRun >= abort.connectionFailures)
    return `${abort.connectionFailures} consecutive connection failures${example === null ? '' : ` (${example})`}`;
  if (abort.consecutiveFailures > 0 && counts.failureRun >= abort.consecutiveFailures)
    return `${abort.consecutiveFailures} consecutive failed requests${example === null ? '' : ` (${example})`}`;
  const rule = abort.errorRate;
  const window = counts.window;
  if (!rule || !window || window.requests < rule.minRequests || window.failures / window.requests <= rule.above) return null;
  return (
    `error rate ${percent(window.failures / window.requests)} over the last ${spokenDuration(rule.windowMs)}, ` +
    `above ${percent(rule.above)} (${window.failures} of ${window.requests} requests failed${example === null ? '' : `; ${example}`})`
  );
}
