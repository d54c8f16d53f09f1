/**
 * Feeds the request metrics from what running shards already report, so that nothing is added to
 * the generator threads' hot path: each progress message carries the latest windows the shard's
 * threads closed (counts, errors by class, requests in flight, worst loop lag, encoded TTFT and
 * e2e histograms), and each shard's result carries its exact totals.
 *
 * While a shard runs, every closed window is counted once (windows are told apart by the time they
 * cover). When it ends, its result settles the difference: what no progress message showed (a
 * window older than the few a message carries, a late request filed into a window already closed,
 * the windows of the last moments) is added then. After a shard ends, its counts and histograms
 * equal its result's, hence the report's. A shard that fails or is handed back keeps what was
 * counted of it: those requests were sent, though no report will count them.
 */
import { summarize, decodeHistogram } from '../histogram';
import type { ShardResult } from '../shard-result';
import type { ShardProgress } from '../shard-task';
import type { RecentWindows, WindowRecord } from '../window-series';
import type { GrymMetrics } from './grym-metrics';
import { observeEncoded, observeRemainder, type ObservedCounts } from './histogram-observations';

/** One shard of a phase on one worker process. */
export interface ShardRef {
  run: string;
  phase: string;
  phaseIndex: number;
  shardIndex: number;
  worker: string;
}

interface ShardState {
  labels: Labels;
  /** Epoch ms up to which windows have been counted. */
  countedUntilMs: number;
  ok: number;
  errorsByClass: Map<string, number>;
  e2e: ObservedCounts;
  ttft: ObservedCounts;
  /** This shard's share of the in-flight gauge, and its worst loop lag in its latest closed window (ms). */
  inFlight: number;
  loopLagMaxMs: number;
}

type Labels = { run: string; phase: string; worker: string };

const keyOf = (shard: ShardRef) => `${shard.run}\u0000${shard.phaseIndex}\u0000${shard.shardIndex}\u0000${shard.worker}`;
const labelsOf = (shard: ShardRef): Labels => ({ run: shard.run, phase: shard.phase, worker: shard.worker });
const labelsKey = (labels: Labels) => `${labels.run}\u0000${labels.phase}\u0000${labels.worker}`;

export class ShardMetricsFeed {
  private readonly running = new Map<string, ShardState>();
  /** Shards already settled: a progress message arriving after the result must not count again. */
  private readonly ended = new Set<string>();
  /** Per label set, the worst of the ended shards' loop-lag p99 and utilization. */
  private readonly endedWorst = new Map<string, { lagP99: number; utilization: number }>();

  constructor(private readonly metrics: GrymMetrics) {}

  shardStarted(shard: ShardRef): void {
    this.stateOf(shard);
  }

  progress(shard: ShardRef, progress: ShardProgress): void {
    const state = this.stateOf(shard);
    if (!state || !progress.recent) return;
    this.countClosedWindows(state, progress.recent);
  }

  /** `result` null: the shard failed or was handed back; what was counted of it stays. */
  shardEnded(shard: ShardRef, result: ShardResult | null): void {
    const state = this.stateOf(shard);
    if (!state) return;
    const { metrics } = this;
    if (result) {
      this.settle(state, result);
      const lagP99 = (summarize(decodeHistogram(result.histograms.loopLagUs))?.p99 ?? 0) / 1000;
      const worst = this.endedWorst.get(labelsKey(state.labels)) ?? { lagP99: 0, utilization: 0 };
      worst.lagP99 = Math.max(worst.lagP99, lagP99);
      worst.utilization = Math.max(worst.utilization, result.generator.busiestUtilization ?? 0);
      this.endedWorst.set(labelsKey(state.labels), worst);
      metrics.loopLagP99.set(state.labels, worst.lagP99);
      metrics.utilization.set(state.labels, worst.utilization);
    }
    metrics.inFlight.dec(state.labels, state.inFlight);
    metrics.shardsRunning.dec(state.labels);
    const key = keyOf(shard);
    this.running.delete(key);
    this.ended.add(key);
    this.updateLoopLagMax(state.labels);
  }

  /** The state of a running shard (created on first sight), or undefined once it has ended. */
  private stateOf(shard: ShardRef): ShardState | undefined {
    const key = keyOf(shard);
    if (this.ended.has(key)) return undefined;
    let state = this.running.get(key);
    if (!state) {
      state = {
        labels: labelsOf(shard),
        countedUntilMs: -Infinity,
        ok: 0,
        errorsByClass: new Map(),
        e2e: new Map(),
        ttft: new Map(),
        inFlight: 0,
        loopLagMaxMs: 0,
      };
      this.running.set(key, state);
      // Zero first, so that a scrape before the first window shows the series.
      this.metrics.requests.inc({ ...state.labels, outcome: 'ok', error_class: '' }, 0);
      this.metrics.shardsRunning.inc(state.labels);
    }
    return state;
  }

  private countClosedWindows(state: ShardState, recent: RecentWindows): void {
    const { windowMs, originEpochMs, closedThrough } = recent;
    for (const window of recent.windows) {
      const startMs = originEpochMs + window.index * windowMs;
      // Not closed by every thread yet, or (partly) counted already: left for later, or for the result.
      if (window.index > closedThrough || startMs < state.countedUntilMs) continue;
      this.countWindow(state, window);
    }
    const closedUntilMs = originEpochMs + (closedThrough + 1) * windowMs;
    if (closedThrough < 0 || closedUntilMs <= state.countedUntilMs) return;
    state.countedUntilMs = closedUntilMs;
    const latest = recent.windows.find((window) => window.index === closedThrough);
    const inFlight = (latest?.inFlightMs ?? 0) / windowMs;
    this.metrics.inFlight.inc(state.labels, inFlight - state.inFlight);
    state.inFlight = inFlight;
    state.loopLagMaxMs = latest?.loopLagMaxMs ?? 0;
    this.updateLoopLagMax(state.labels);
  }

  private countWindow(state: ShardState, window: WindowRecord): void {
    const { metrics } = this;
    if (window.ok > 0) metrics.requests.inc({ ...state.labels, outcome: 'ok', error_class: '' }, window.ok);
    state.ok += window.ok;
    for (const [errorClass, count] of Object.entries(window.errorsByClass)) {
      metrics.requests.inc({ ...state.labels, outcome: 'error', error_class: errorClass }, count);
      state.errorsByClass.set(errorClass, (state.errorsByClass.get(errorClass) ?? 0) + count);
    }
    const e2e = metrics.e2e.labels(state.labels);
    const ttft = metrics.ttft.labels(state.labels);
    observeEncoded((seconds) => e2e.observe(seconds), window.histograms.e2eUs, state.e2e);
    observeEncoded((seconds) => ttft.observe(seconds), window.histograms.ttftUs, state.ttft);
  }

  /** Adds what the shard's result holds beyond what its windows showed: then both agree exactly. */
  private settle(state: ShardState, result: ShardResult): void {
    const { metrics } = this;
    const ok = result.requests.ok - state.ok;
    if (ok > 0) metrics.requests.inc({ ...state.labels, outcome: 'ok', error_class: '' }, ok);
    for (const [errorClass, count] of Object.entries(result.requests.byClass)) {
      const remaining = count - (state.errorsByClass.get(errorClass) ?? 0);
      if (remaining > 0) metrics.requests.inc({ ...state.labels, outcome: 'error', error_class: errorClass }, remaining);
    }
    const e2e = metrics.e2e.labels(state.labels);
    const ttft = metrics.ttft.labels(state.labels);
    observeRemainder((seconds) => e2e.observe(seconds), result.histograms.e2eUs, state.e2e);
    observeRemainder((seconds) => ttft.observe(seconds), result.histograms.ttftUs, state.ttft);
  }

  /** The loop-lag gauge of a label set: the worst latest window of its running shards (0 when none runs). */
  private updateLoopLagMax(labels: Labels): void {
    const key = labelsKey(labels);
    let worstMs = 0;
    for (const state of this.running.values()) if (labelsKey(state.labels) === key) worstMs = Math.max(worstMs, state.loopLagMaxMs);
    this.metrics.loopLagMax.set(labels, worstMs / 1000);
  }
}
