/**
 * What reports draw over time and as distributions: one point per window of the phase's measured
 * part (percentiles read from the window's merged histograms, never averaged), and the whole
 * phase's latency distributions. Times are milliseconds, counts per window.
 */

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface TimelinePoint {
  /** Window start, milliseconds after the phase start (warm-up included). */
  tMs: number;
  /** How long the window ran: the window's length, shorter for the last one (it ends with the last request). */
  spanMs: number;
  ok: number;
  errors: number;
  errorsByClass: Record<string, number>;
  /** Mean requests in flight over the window's span, all shards together (what was achieved). */
  inFlight: number;
  /** What the plan asked for at the window's middle: conversations (closed loop) or the in-flight cap (open loop). */
  requestedInFlight: number | null;
  /** Open loop: arrivals scheduled in the window. */
  scheduled: number;
  outputTokens: number;
  /** Worst event-loop lag of a generator thread in the window. */
  loopLagMaxMs: number;
  e2e: Percentiles | null;
  ttft: Percentiles | null;
  itl: Percentiles | null;
  /** Whether the window counts as stable (see the stability metric); null for the last, partial window. */
  stable: boolean | null;
}

export interface PhaseTimeline {
  windowMs: number;
  points: TimelinePoint[];
}

/** A distribution as [percentile (0..100), value in ms] pairs, dense in the tail. */
export type Distribution = Array<[number, number]>;

export interface LatencyDistributions {
  e2e: Distribution;
  ttft: Distribution;
  itl: Distribution;
  tpot: Distribution;
}
