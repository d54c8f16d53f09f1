/**
 * The stop state one shard shares across its threads: a flag that any slice (an abort condition
 * held) or the shard's main thread (its time limit, an interrupt) sets once, and the running counts
 * the abort conditions judge, all in one SharedArrayBuffer read and written with Atomics. It
 * travels in every SliceTask (a SharedArrayBuffer is shared, not copied, by postMessage), so one
 * thread's trip stops the others.
 */

/** Int32 cells: the flag, the two runs of consecutive failures, then the error-rate buckets. */
const STOPPED = 0;
const CONNECTION_RUN = 1;
const FAILURE_RUN = 2;
const FIRST_BUCKET = 3;
/** Each bucket: which time slot it counts (modulo 2^30), requests, failures. */
const BUCKET_CELLS = 3;
const SLOT_MODULO = 0x40000000;

/** The error-rate window is cut into this many buckets; the rate is read over the last ones. */
export const ERROR_RATE_BUCKETS = 10;

/** A new, running stop state for one shard. */
export function createShardStopState(): SharedArrayBuffer {
  return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (FIRST_BUCKET + BUCKET_CELLS * ERROR_RATE_BUCKETS));
}

export class ShardStop {
  private readonly cells: Int32Array;

  constructor(state: SharedArrayBuffer) {
    this.cells = new Int32Array(state);
  }

  /** Whether the shard was stopped: send nothing more. */
  get stopped(): boolean {
    return Atomics.load(this.cells, STOPPED) !== 0;
  }

  /** Stops the shard; true for the one caller that stopped it first (whose reason is reported). */
  trip(): boolean {
    return Atomics.compareExchange(this.cells, STOPPED, 0, 1) === 0;
  }

  /** A request reached the server (or succeeded): the run of connection failures is broken. */
  resetConnectionRun(): void {
    // Read first: at thousands of requests a second, a store to a cell every thread reads costs more than a load.
    if (Atomics.load(this.cells, CONNECTION_RUN) !== 0) Atomics.store(this.cells, CONNECTION_RUN, 0);
  }

  resetFailureRun(): void {
    if (Atomics.load(this.cells, FAILURE_RUN) !== 0) Atomics.store(this.cells, FAILURE_RUN, 0);
  }

  /** One more connection failure in a row, shard-wide: the run's length. */
  addConnectionFailure(): number {
    return Atomics.add(this.cells, CONNECTION_RUN, 1) + 1;
  }

  addFailure(): number {
    return Atomics.add(this.cells, FAILURE_RUN, 1) + 1;
  }

  /**
   * Counts a request in the bucket of time slot `slot` (a bucket is reused every
   * ERROR_RATE_BUCKETS slots). Two threads opening the same new slot at once may lose a count or
   * two to the reset: the rate is an estimate, good enough to stop a failing phase.
   */
  countRequest(slot: number, failed: boolean): void {
    const base = FIRST_BUCKET + (slot % ERROR_RATE_BUCKETS) * BUCKET_CELLS;
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
    for (let back = 0; back < Math.min(slots, ERROR_RATE_BUCKETS); back++) {
      const base = FIRST_BUCKET + ((slot - back) % ERROR_RATE_BUCKETS) * BUCKET_CELLS;
      if (Atomics.load(this.cells, base) !== (slot - back) % SLOT_MODULO) continue;
      requests += Atomics.load(this.cells, base + 1);
      failures += Atomics.load(this.cells, base + 2);
    }
    return { requests, failures };
  }
}
