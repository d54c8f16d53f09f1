/**
 * The shard's side of its phase's control (a sharded phase): every CONTROL_INTERVAL_MS the shard's
 * main thread sends what its abort conditions have counted (`AbortTally`) and hears whether the
 * phase was stopped, by the control's phase-wide judgment or by another shard's own conditions;
 * then it stops its threads as its own trip would. When one of its threads trips, it tells the
 * control at once, so the other shards stop within their next exchange.
 */
import type { AbortTally } from '../shared/abort-tally';
import { shardStopReason } from '../shared/phase-stop-reason';
import type { StopReason } from '../shared/shard-result';
import type { ShardStop } from './scenarios/shard-stop';

/** Between two exchanges with the phase's control: a stop reaches every shard within about this long. */
const CONTROL_INTERVAL_MS = 250;
/** How long a finishing shard waits for its last exchange: one Redis round trip, with room for a slow one. */
const CLOSE_WAIT_MS = 2000;

/**
 * Where a sharded phase is controlled: in Redis for a distributed run (a control worker judges),
 * in memory for a local one. Times are on the run's clock.
 */
export interface PhaseControl {
  /**
   * Hands over the shard's tally and, once the shard's own conditions stopped it, its stop (the
   * first stop the phase gets wins); resolves to the phase's stop when there is one.
   */
  exchange(tally: AbortTally, ownStop: StopReason | null): Promise<StopReason | null>;
}

export interface PhaseControlFollower {
  /** A thread's own stop (already on the run's clock): told to the control now. */
  ownStop(stop: StopReason): void;
  /** The latest failure a thread reported, for a phase-wide reason to quote. */
  noteFailure(words: string | null): void;
  /** Why the control stopped this shard, when it did (on the run's clock). */
  stopped(): StopReason | null;
  /** The shard's own stop as the phase tells it (with the shard named), when it stopped itself. */
  ownStopReason(): StopReason | null;
  /** Stops exchanging; waits (bounded) for an exchange in flight. */
  close(): Promise<void>;
}

export function followPhaseControl(
  control: PhaseControl,
  shard: ShardStop,
  options: {
    shardIndex: number;
    shardCount: number;
    workerName: string;
    slotMs: number | undefined;
    /** Told when the control stops this shard (another shard's stop, or the phase-wide one). */
    onStop?: (stop: StopReason) => void;
  },
): PhaseControlFollower {
  let own: StopReason | null = null;
  let external: StopReason | null = null;
  let lastFailure: string | null = null;
  let inFlight: Promise<void> | null = null;
  let again = false;
  let closed = false;
  let ownSent = false;

  const exchangeOnce = async () => {
    try {
      const sending = own;
      const stop = await control.exchange(shard.tally(options.slotMs, lastFailure), sending);
      if (sending !== null) ownSent = true;
      // Another shard's stop, or the phase-wide one: stop here too, unless this shard stopped first.
      if (stop !== null && own === null && external === null && shard.trip()) {
        external = stop;
        options.onStop?.(stop);
      }
    } catch {
      // A lost exchange (Redis away a moment) is retried at the next tick; the shard's own conditions still hold meanwhile.
    }
  };
  const exchange = () => {
    if (closed) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = exchangeOnce().finally(() => {
      inFlight = null;
      if (again) {
        again = false;
        exchange();
      }
    });
  };
  exchange();
  const timer = setInterval(exchange, CONTROL_INTERVAL_MS);

  return {
    ownStop(stop) {
      if (own !== null || external !== null) return;
      own = shardStopReason(stop, options.shardIndex, options.shardCount, options.workerName);
      exchange();
    },
    noteFailure(words) {
      if (words !== null) lastFailure = words;
    },
    stopped: () => external,
    ownStopReason: () => own,
    async close() {
      clearInterval(timer);
      closed = true;
      // The shard's own stop must reach the phase: let the exchange carrying it land, but never wait on Redis for long.
      const landed = async () => {
        await inFlight;
        if (own !== null && !ownSent) await exchangeOnce();
      };
      await Promise.race([landed(), new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
    },
  };
}
