/**
 * The plan's abort conditions (`phase.abort`), judged on every outcome of a shard, warm-up
 * included, with counts shared by its threads (`ShardStop`): consecutive requests that never
 * reached the server, consecutive failures of any class, and the error rate over a sliding window
 * once it holds enough requests. A request the harness abandoned (`aborted`) counts for nothing.
 *
 * In a sharded phase the shard's counts also go to the phase's control, which judges all shards
 * together with the same `abortReason`; the error rate is then judged there only, since its
 * `minRequests` and share are about all of the phase's requests, not one shard's part.
 */
import { abortReason } from '../../shared/abort-reason';
import { ABORT_RATE_SLOTS, abortRateSlotMs } from '../../shared/abort-tally';
import type { Phase } from '../../shared/phase-schema';
import type { RequestFailure, RequestOutcome } from '../targets/llm-target';
import type { ShardStop } from './shard-stop';

/** The failure that tipped a condition, as the reason shows it: "connection_refused: connect ECONNREFUSED 127.0.0.1:9". */
export const failureExample = (failure: RequestFailure) => `${failure.errorClass}: ${failure.message.slice(0, 160)}`;

export class AbortConditions {
  private readonly slotMs: number | undefined;
  /** Whether this shard keeps times: only for a phase control, so a lone shard pays for no clock read per request. */
  private readonly timed: boolean;

  constructor(
    private readonly shard: ShardStop,
    private readonly abort: Phase['abort'],
  ) {
    this.slotMs = abortRateSlotMs(abort);
    this.timed = shard.controlled || this.slotMs !== undefined;
  }

  /** Counts an outcome; returns the condition in words when it now holds, else null. */
  observe(outcome: RequestOutcome): string | null {
    const { shard } = this;
    if (!outcome.ok && outcome.errorClass === 'aborted') return null;
    const nowMs = this.timed ? shard.nowMs() : 0;
    if (this.slotMs !== undefined) shard.countRequest(Math.floor(nowMs / this.slotMs), !outcome.ok);
    if (outcome.ok) {
      shard.reached(true, nowMs);
      return null;
    }
    let connectionRun = 0;
    if (outcome.connectionFailure) connectionRun = shard.addConnectionFailure(nowMs);
    else shard.reached(false, nowMs);
    const failureRun = shard.addFailure(nowMs);
    // The error rate of a sharded phase is its control's to judge, over all shards' requests.
    const window =
      this.slotMs === undefined || shard.controlled ? null : shard.windowCounts(Math.floor(nowMs / this.slotMs), ABORT_RATE_SLOTS);
    // The thresholds, not the runs, are named: another thread may have added to a run meanwhile.
    return abortReason(this.abort, { connectionRun, failureRun, window }, failureExample(outcome));
  }
}
