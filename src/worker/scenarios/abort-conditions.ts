/**
 * The plan's abort conditions (`phase.abort`), judged on every outcome of a shard, warm-up
 * included, with counts shared by its threads (`ShardStop`): consecutive requests that never
 * reached the server, consecutive failures of any class, and the error rate over a sliding window
 * once it holds enough requests. A request the harness abandoned (`aborted`) counts for nothing.
 */
import type { Phase } from '../../shared/phase-schema';
import type { RequestFailure, RequestOutcome } from '../targets/llm-target';
import { ERROR_RATE_BUCKETS, type ShardStop } from './shard-stop';

/** A duration in the words of a stop reason: 3600000 -> "1 h", 90000 -> "1.5 min", 5000 -> "5 s". */
export function spokenDuration(ms: number): string {
  const round = (value: number) => String(Math.round(value * 10) / 10);
  if (ms >= 3_600_000) return `${round(ms / 3_600_000)} h`;
  if (ms >= 60_000) return `${round(ms / 60_000)} min`;
  if (ms >= 1000) return `${round(ms / 1000)} s`;
  return `${Math.round(ms)} ms`;
}

/** The failure that tipped a condition, as the reason shows it: "connection_refused: connect ECONNREFUSED 127.0.0.1:9". */
const example = (failure: RequestFailure) => `${failure.errorClass}: ${failure.message.slice(0, 160)}`;

export class AbortConditions {
  private readonly slotMs: number | undefined;

  constructor(
    private readonly shard: ShardStop,
    private readonly abort: Phase['abort'],
  ) {
    this.slotMs = abort.errorRate ? abort.errorRate.windowMs / ERROR_RATE_BUCKETS : undefined;
  }

  /** Counts an outcome; returns the condition in words when it now holds, else null. */
  observe(outcome: RequestOutcome): string | null {
    const { shard, abort } = this;
    if (outcome.ok) {
      shard.resetConnectionRun();
      shard.resetFailureRun();
      if (this.slotMs !== undefined) shard.countRequest(Math.floor(Date.now() / this.slotMs), false);
      return null;
    }
    if (outcome.errorClass === 'aborted') return null;
    if (outcome.connectionFailure) {
      const run = shard.addConnectionFailure();
      // The threshold, not the run: another thread may have added to the run meanwhile.
      if (abort.connectionFailures > 0 && run >= abort.connectionFailures)
        return `${abort.connectionFailures} consecutive connection failures (${example(outcome)})`;
    } else {
      shard.resetConnectionRun();
    }
    const failures = shard.addFailure();
    if (abort.consecutiveFailures > 0 && failures >= abort.consecutiveFailures)
      return `${abort.consecutiveFailures} consecutive failed requests (${example(outcome)})`;
    return this.slotMs === undefined ? null : this.errorRateReason(outcome);
  }

  /** Counts a failure in the sliding window and judges the rate there. */
  private errorRateReason(failure: RequestFailure): string | null {
    const rule = this.abort.errorRate;
    if (!rule || this.slotMs === undefined) return null;
    const slot = Math.floor(Date.now() / this.slotMs);
    this.shard.countRequest(slot, true);
    const { requests, failures } = this.shard.windowCounts(slot, ERROR_RATE_BUCKETS);
    if (requests < rule.minRequests || failures / requests <= rule.above) return null;
    const share = `${Math.round((failures / requests) * 1000) / 10}%`;
    return (
      `error rate ${share} over the last ${spokenDuration(rule.windowMs)}, above ${Math.round(rule.above * 1000) / 10}% ` +
      `(${failures} of ${requests} requests failed; ${example(failure)})`
    );
  }
}
