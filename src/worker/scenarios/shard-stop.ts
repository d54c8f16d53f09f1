/**
 * The stop state one shard shares across its threads: a flag that any slice (an abort condition
 * held) or the shard's main thread (its time limit, an interrupt, the phase's control) sets once,
 * and the running counts the abort conditions judge, all in one SharedArrayBuffer read and written
 * with Atomics. It travels in every SliceTask (a SharedArrayBuffer is shared, not copied, by
 * postMessage), so one thread's trip stops the others.
 *
 * The state also carries how the shard reads the run's clock (its offset from Redis `TIME`) and
 * whether a phase control judges the shard with its siblings: then the shard keeps the times a
 * phase-wide judgment needs (`AbortTally`), and leaves the error rate, which only means something
 * over all of the phase's requests, to the control.
 */
import { ABORT_RATE_SLOTS, type AbortTally } from '../../shared/abort-tally';

/** Float64 header: the run-clock epoch ms that time cells count from, and this process's offset to the run's clock. */
const BASE_MS = 0;
const CLOCK_OFFSET_MS = 1;
const HEADER_BYTES = 2 * Float64Array.BYTES_PER_ELEMENT;

/** Int32 cells: the flag, the two runs of consecutive failures, the phase-control flag and times, then the error-rate slots. */
const STOPPED = 0;
const CONNECTION_RUN = 1;
const FAILURE_RUN = 2;
const CONTROLLED = 3;
// Times: ms since BASE_MS plus one (0: never), so an Int32 holds 24 days; a phase is bounded to 7.
const CONNECTION_RUN_FROM = 4;
const FAILURE_RUN_FROM = 5;
const LAST_REACHED = 6;
const LAST_OK = 7;
const FIRST_SLOT = 8;
/** Each slot: which time slot it counts (modulo 2^30), requests, failures. */
const SLOT_CELLS = 3;
const SLOT_MODULO = 0x40000000;

export interface ShardStopOptions {
  /** Run clock minus this process's clock (ms): what the start barrier measured; 0 for a local run. */
  clockOffsetMs?: number;
  /** A phase control judges this shard with the others of its phase (a sharded phase). */
  controlled?: boolean;
}

/** A new, running stop state for one shard. */
export function createShardStopState(options: ShardStopOptions = {}): SharedArrayBuffer {
  const state = new SharedArrayBuffer(HEADER_BYTES + Int32Array.BYTES_PER_ELEMENT * (FIRST_SLOT + SLOT_CELLS * ABORT_RATE_SLOTS));
  const header = new Float64Array(state, 0, 2);
  header[CLOCK_OFFSET_MS] = options.clockOffsetMs ?? 0;
  header[BASE_MS] = Date.now() + (options.clockOffsetMs ?? 0);
  if (options.controlled) new Int32Array(state, HEADER_BYTES)[CONTROLLED] = 1;
  return state;
}

export class ShardStop {
  private readonly cells: Int32Array;
  private readonly baseMs: number;
  private readonly clockOffsetMs: number;
  /** Whether a phase control judges this shard with its siblings (fixed when the state was made). */
  readonly controlled: boolean;

  constructor(state: SharedArrayBuffer) {
    const header = new Float64Array(state, 0, 2);
    this.baseMs = header[BASE_MS] as number;
    this.clockOffsetMs = header[CLOCK_OFFSET_MS] as number;
    this.cells = new Int32Array(state, HEADER_BYTES);
    this.controlled = this.cells[CONTROLLED] === 1;
  }

  /** Now on the run's clock (epoch ms). */
  nowMs(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Whether the shard was stopped: send nothing more. */
  get stopped(): boolean {
    return Atomics.load(this.cells, STOPPED) !== 0;
  }

  /** Stops the shard; true for the one caller that stopped it first (whose reason is reported). */
  trip(): boolean {
    return Atomics.compareExchange(this.cells, STOPPED, 0, 1) === 0;
  }

  /**
   * A request reached the server (`ok`: and succeeded): the run of connection failures (and with
   * `ok`, of failures) is broken. A controlled shard notes when, at most once per ms: at thousands of
   * requests a second, a store to a cell every thread reads costs more than a load.
   */
  reached(ok: boolean, nowMs: number): void {
    if (Atomics.load(this.cells, CONNECTION_RUN) !== 0) Atomics.store(this.cells, CONNECTION_RUN, 0);
    if (ok && Atomics.load(this.cells, FAILURE_RUN) !== 0) Atomics.store(this.cells, FAILURE_RUN, 0);
    if (!this.controlled) return;
    const at = this.timeCell(nowMs);
    if (Atomics.load(this.cells, LAST_REACHED) < at) Atomics.store(this.cells, LAST_REACHED, at);
    if (ok && Atomics.load(this.cells, LAST_OK) < at) Atomics.store(this.cells, LAST_OK, at);
  }

  /** One more connection failure in a row, shard-wide: the run's length. */
  addConnectionFailure(nowMs: number): number {
    return this.extendRun(CONNECTION_RUN, CONNECTION_RUN_FROM, nowMs);
  }

  /** One more failure of any class in a row, shard-wide: the run's length. */
  addFailure(nowMs: number): number {
    return this.extendRun(FAILURE_RUN, FAILURE_RUN_FROM, nowMs);
  }

  private extendRun(runCell: number, fromCell: number, nowMs: number): number {
    const run = Atomics.add(this.cells, runCell, 1) + 1;
    // A run that starts here is timed from here; a break racing with this store is corrected by the next run's first failure.
    if (run === 1 && this.controlled) Atomics.store(this.cells, fromCell, this.timeCell(nowMs));
    return run;
  }

  private timeCell(nowMs: number): number {
    return Math.min(0x7fffffff, Math.max(1, Math.floor(nowMs - this.baseMs) + 1));
  }

  private timeOf(cell: number): number | null {
    const value = Atomics.load(this.cells, cell);
    return value === 0 ? null : this.baseMs + value - 1;
  }

  /**
   * Counts a request in the slot `slot` (a cell group is reused every ABORT_RATE_SLOTS slots). Two
   * threads opening the same new slot at once may lose a count or two to the reset: the rate is an
   * estimate, good enough to stop a failing phase.
   */
  countRequest(slot: number, failed: boolean): void {
    const base = FIRST_SLOT + (slot % ABORT_RATE_SLOTS) * SLOT_CELLS;
    const tag = slot % SLOT_MODULO;
    const seen = Atomics.load(this.cells, base);
    if (seen !== tag && Atomics.compareExchange(this.cells, base, seen, tag) === seen) {
      Atomics.store(this.cells, base + 1, 0);
      Atomics.store(this.cells, base + 2, 0);
    }
    Atomics.add(this.cells, base + 1, 1);
    if (failed) Atomics.add(this.cells, base + 2, 1);
  }

  /** Requests and failures counted in the `slots` time slots ending with `slot`. */
  windowCounts(slot: number, slots: number): { requests: number; failures: number } {
    let requests = 0;
    let failures = 0;
    for (const [, slotRequests, slotFailures] of this.slotCounts(slot, slots)) {
      requests += slotRequests;
      failures += slotFailures;
    }
    return { requests, failures };
  }

  /** [slot, requests, failures] of the `slots` time slots ending with `slot` that counted anything. */
  private slotCounts(slot: number, slots: number): Array<[number, number, number]> {
    const counts: Array<[number, number, number]> = [];
    for (let back = 0; back < Math.min(slots, ABORT_RATE_SLOTS); back++) {
      const base = FIRST_SLOT + ((slot - back) % ABORT_RATE_SLOTS) * SLOT_CELLS;
      if (Atomics.load(this.cells, base) !== (slot - back) % SLOT_MODULO) continue;
      const requests = Atomics.load(this.cells, base + 1);
      if (requests > 0) counts.push([slot - back, requests, Atomics.load(this.cells, base + 2)]);
    }
    return counts;
  }

  /** What the shard has counted, for its phase's control; `slotMs` undefined when the error rate is off. */
  tally(slotMs: number | undefined, lastFailure: string | null): AbortTally {
    const asOfMs = this.nowMs();
    const connectionRun = Atomics.load(this.cells, CONNECTION_RUN);
    const failureRun = Atomics.load(this.cells, FAILURE_RUN);
    return {
      asOfMs,
      connectionRun,
      connectionRunFromMs: connectionRun > 0 ? this.timeOf(CONNECTION_RUN_FROM) : null,
      lastReachedMs: this.timeOf(LAST_REACHED),
      failureRun,
      failureRunFromMs: failureRun > 0 ? this.timeOf(FAILURE_RUN_FROM) : null,
      lastOkMs: this.timeOf(LAST_OK),
      slots: slotMs === undefined ? [] : this.slotCounts(Math.floor(asOfMs / slotMs), ABORT_RATE_SLOTS),
      lastFailure,
    };
  }
}
