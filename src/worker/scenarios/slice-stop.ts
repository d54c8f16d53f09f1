/**
 * One thread's view of its shard's stop: scenarios ask `stopped` before each request, report each
 * outcome to `observe` (which may stop the whole shard), and sleep through `sleep` so that a stop
 * wakes them. When the shard stops, from this thread or any other, `signal` aborts and the
 * requests in flight are abandoned rather than waited for.
 */
import type { Phase } from '../../shared/phase-schema';
import type { StopReason } from '../../shared/shard-result';
import type { RequestFailure, RequestOutcome } from '../targets/llm-target';
import { AbortConditions, failureExample } from './abort-conditions';
import { ShardStop } from './shard-stop';

/** How often a thread looks whether another one (or the main thread) stopped the shard. */
const POLL_MS = 50;

export class SliceStop {
  /** Aborted when the shard stops: targets abandon their requests in flight. */
  readonly signal: AbortSignal;
  /** Why this thread stopped the shard, when it was the one that did. */
  reason: StopReason | null = null;
  private readonly shard: ShardStop;
  private readonly conditions: AbortConditions;
  private readonly controller = new AbortController();
  private readonly sleepers = new Set<() => void>();
  private readonly poll: NodeJS.Timeout;
  /** Kept by reference: the words are made only when asked (`lastFailure`), not per failure. */
  private latestFailure: RequestFailure | null = null;

  /** `onTrip` hears this thread's own stop at once (the shard's main thread tells the phase's other shards). */
  constructor(
    state: SharedArrayBuffer,
    abort: Phase['abort'],
    private readonly onTrip?: (reason: StopReason) => void,
  ) {
    this.shard = new ShardStop(state);
    this.conditions = new AbortConditions(this.shard, abort);
    this.signal = this.controller.signal;
    this.poll = setInterval(() => {
      if (this.shard.stopped) this.halt();
    }, POLL_MS);
  }

  /** Whether the shard was stopped: send nothing more. */
  get stopped(): boolean {
    return this.shard.stopped;
  }

  /** Whether this thread has seen a failure (not one the harness abandoned). */
  get hasFailed(): boolean {
    return this.latestFailure !== null;
  }

  /** This thread's latest failure (not one the harness abandoned), as a stop reason quotes it; null before any. */
  get lastFailure(): string | null {
    return this.latestFailure === null ? null : failureExample(this.latestFailure);
  }

  /** Judges an outcome against the phase's abort conditions; the first thread to see one hold stops the shard. */
  observe(outcome: RequestOutcome): void {
    if (!outcome.ok && outcome.errorClass !== 'aborted') this.latestFailure = outcome;
    const reason = this.conditions.observe(outcome);
    if (reason === null || !this.shard.trip()) return;
    // On the run's clock: a sharded phase compares it with the other shards' times.
    this.reason = { reason, atMs: this.shard.nowMs() };
    this.halt();
    this.onTrip?.(this.reason);
  }

  /** Waits `ms`, or less when the shard stops meanwhile. */
  sleep(ms: number): Promise<void> {
    if (this.shard.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Stops polling; call when the slice is done. */
  close(): void {
    clearInterval(this.poll);
  }

  private halt(): void {
    clearInterval(this.poll);
    if (!this.controller.signal.aborted) this.controller.abort();
    for (const wake of [...this.sleepers]) wake();
  }
}
