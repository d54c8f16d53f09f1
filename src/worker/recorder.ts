/**
 * Records one thread's requests into HdrHistograms (integer microseconds) and counters, never into
 * a list of samples, so memory stays flat however long a soak runs. Times are taken with
 * `performance.now()` and turned into epoch ms with the thread's time origin for windows and spans.
 */
import { createHistogram, encodeHistogram, type Histogram } from '../shared/histogram';
import type { MemorySample } from '../shared/phase-metrics';
import {
  HISTOGRAM_NAMES,
  emptyShardResult,
  type ConnectionCounts,
  type HistogramName,
  type RequestLogEntry,
  type ShardResult,
  type StopReason,
} from '../shared/shard-result';
import type { ProbeResult } from './conversation';
import type { Phase } from '../shared/phase-schema';
import type { RequestOutcome, RequestSuccess } from './targets/llm-target';
import { RequestSampler } from './request-sampler';
import { WindowRecorder } from './window-recorder';
import type { RecentWindows } from '../shared/window-series';
import { takeTotals, type LiveTotals } from '../shared/live-totals';

const toUs = (ms: number) => Math.max(1, Math.round(ms * 1000));
const toEpochMs = (perfMs: number) => performance.timeOrigin + perfMs;
export const toPerfMs = (epochMs: number) => epochMs - performance.timeOrigin;

/** How much of a failure's message or body a report keeps, per error class. */
const ERROR_SAMPLE_CHARS = 300;

/** Requests of a model-switch phase kept in its sequence: the plan's bounds keep real phases far below. */
const MAX_SWITCH_SEQUENCE = 10_000;

/** An open-loop arrival started later than this after its scheduled time counts as late. */
const LATE_MS = 10;

export type RequestRole = 'plain' | 'switch' | 'warm';

/** What a recorded request was: its model and conversation, its role in a model switch, its scheduled start (open loop). */
export interface RequestAbout {
  model: string;
  /** The conversation's id in its thread. */
  conversation: string;
  role?: RequestRole;
  /** Open loop: when the request was scheduled to start, in `performance.now()` ms. */
  intendedStartMs?: number;
}

export interface RecorderOptions {
  measureFromEpochMs: number;
  measureUntilEpochMs: number;
  windowMs: number;
  slo?: Phase['slo'];
  /** Which shard and thread this is: labels of the request log. */
  shard?: number;
  slice?: number;
  /** Requests kept for `run --requests` (a uniform sample), and the seed of the sampling. */
  requestLog?: { capacity: number; seed: number };
}

export class Recorder {
  private readonly histograms = Object.fromEntries(HISTOGRAM_NAMES.map((name) => [name, createHistogram()])) as Record<
    HistogramName,
    Histogram
  >;
  private readonly result: ShardResult;
  /** The same requests window by window, for the time series (and live progress). */
  private readonly windows: WindowRecorder;
  private readonly requestLog: RequestSampler;
  private inFlight = 0;
  private lastChangeMs: number | null = null;
  private readonly measureFromEpochMs: number;

  /**
   * Requests (open loop: arrivals) starting before `measureFromEpochMs` are warm-up, from
   * `measureUntilEpochMs` on cool-down: sent, not recorded.
   */
  constructor(private readonly options: RecorderOptions) {
    this.measureFromEpochMs = options.measureFromEpochMs;
    this.result = emptyShardResult();
    this.windows = new WindowRecorder(options.measureFromEpochMs, options.windowMs);
    this.requestLog = new RequestSampler(options.requestLog?.capacity ?? 0, options.requestLog?.seed ?? 0);
  }

  /** Whether a request starting at `epochMs` (now by default) is measured. */
  isMeasuring(epochMs = toEpochMs(performance.now())): boolean {
    return epochMs >= this.measureFromEpochMs && epochMs < this.options.measureUntilEpochMs;
  }

  /** Open loop: an arrival in the measured part was scheduled, or (`dropped`) one never started. */
  arrival(dropped = false): void {
    if (dropped) {
      this.result.arrivals.dropped++;
      return;
    }
    this.result.arrivals.scheduled++;
    this.windows.recordScheduled(toEpochMs(performance.now()));
  }

  /** Open loop: how late the generator got to an arrival (before any wait for a free slot). */
  recordSchedulingLag(lagMs: number): void {
    this.histograms.lagUs.recordValue(toUs(Math.max(0, lagMs)));
  }

  /** How late a generator thread's event loop ran (`count` samples of that lag): the generator's own health. */
  recordLoopLag(lagMs: number, count = 1): void {
    this.histograms.loopLagUs.recordValueWithCount(toUs(lagMs), count);
  }

  /** The worst event-loop lag of the window now ending (sampled once a window by the health watch). */
  recordWindowLoopLag(lagMs: number): void {
    this.windows.recordLoopLag(toEpochMs(performance.now()), lagMs);
  }

  recordGcPause(durationMs: number): void {
    this.histograms.gcUs.recordValue(toUs(durationMs));
  }

  recordUtilization(utilization: number): void {
    this.result.generator.busiestUtilization = Math.max(this.result.generator.busiestUtilization ?? 0, utilization);
  }

  private moveInFlight(delta: number): void {
    const now = performance.now();
    if (this.lastChangeMs !== null) {
      this.result.concurrency.inFlightIntegralMs += this.inFlight * (now - this.lastChangeMs);
      this.windows.recordInFlight(toEpochMs(this.lastChangeMs), toEpochMs(now), this.inFlight);
    }
    this.lastChangeMs = now;
    this.inFlight += delta;
    this.result.concurrency.peak = Math.max(this.result.concurrency.peak, this.inFlight);
  }

  /** Marks a measured request as in flight; call `record` (or `abandoned`) when it ends. */
  started(): void {
    this.moveInFlight(1);
  }

  /** A measured request the harness gave up on when its phase was stopped: out of flight, never counted against the target. */
  abandoned(): void {
    this.moveInFlight(-1);
  }

  /** A reading of the target's memory failed; the first reason is kept for the report. */
  targetReadFailed(reason: string): void {
    this.result.memory.targetReadFailures++;
    this.result.memory.targetReadError ??= reason;
  }

  record(outcome: RequestOutcome, about: RequestAbout): void {
    const { role = 'plain', intendedStartMs } = about;
    this.moveInFlight(-1);
    this.requestLog.offer(() => this.logEntry(outcome, about));
    const result = this.result;
    if (intendedStartMs !== undefined) {
      if (outcome.startMs - intendedStartMs > LATE_MS) result.arrivals.late++;
      // An arrival due within a timer tick is sent at once, a little early: it waited from its send, then.
      if (outcome.ok) this.histograms.responseUs.recordValue(toUs(outcome.endMs - Math.min(intendedStartMs, outcome.startMs)));
    }
    const startEpochMs = toEpochMs(outcome.startMs);
    const endEpochMs = toEpochMs(outcome.endMs);
    result.firstStartMs = Math.min(result.firstStartMs ?? startEpochMs, startEpochMs);
    result.lastEndMs = Math.max(result.lastEndMs ?? endEpochMs, endEpochMs);
    // A switch that reached the server counts even when it failed: the server loaded the model.
    if (role === 'switch') result.switches++;
    if (!outcome.ok) {
      this.windows.recordFailure(endEpochMs, outcome.errorClass);
      result.requests.errors++;
      result.requests.byClass[outcome.errorClass] = (result.requests.byClass[outcome.errorClass] ?? 0) + 1;
      result.requests.samples[outcome.errorClass] ??= outcome.message.slice(0, ERROR_SAMPLE_CHARS);
      return;
    }
    result.requests.ok++;
    const e2eMs = outcome.endMs - outcome.startMs;
    const e2eUs = toUs(e2eMs);
    this.histograms.e2eUs.recordValue(e2eUs);
    if (role === 'switch') this.histograms.switchUs.recordValue(toUs(e2eMs));
    if (role === 'warm') this.histograms.warmUs.recordValue(toUs(e2eMs));
    // Ollama reports a few µs of "load" for a resident model: only a real load counts.
    if (outcome.loadMs !== undefined && outcome.loadMs >= 1) this.histograms.loadUs.recordValue(toUs(outcome.loadMs));
    let ttftUs: number | null = null;
    if (outcome.firstContentMs !== null) {
      const ttftMs = outcome.firstContentMs - outcome.startMs;
      ttftUs = toUs(ttftMs);
      this.histograms.ttftUs.recordValue(ttftUs);
      if (outcome.outputTokens > 1) this.histograms.tpotUs.recordValue(toUs((e2eMs - ttftMs) / (outcome.outputTokens - 1)));
    }
    this.windows.recordSuccess(endEpochMs, e2eUs, ttftUs, outcome.outputTokens);
    const chunks = outcome.contentChunkTimesMs;
    let largestGapMs = 0;
    for (let index = 1; index < chunks.length; index++) {
      const gapMs = (chunks[index] as number) - (chunks[index - 1] as number);
      largestGapMs = Math.max(largestGapMs, gapMs);
      const gapUs = toUs(gapMs);
      this.histograms.itlUs.recordValue(gapUs);
      this.windows.recordGap(endEpochMs, gapUs);
    }
    if (this.meetsSlo(outcome, intendedStartMs ?? outcome.startMs, largestGapMs)) result.requests.good++;
    if (outcome.outputTokens > 0 && e2eMs > 0)
      this.histograms.tokenRateMilli.recordValue(Math.max(1, Math.round((outcome.outputTokens / (e2eMs / 1000)) * 1000)));
    result.tokens.output += outcome.outputTokens;
    result.tokens.input += outcome.inputTokens;
    if (outcome.usageFromServer) result.tokens.fromServer++;
    else result.tokens.estimated++;
    if (outcome.cachedInputTokens !== undefined) {
      const { cache } = result.tokens;
      cache.requests++;
      cache.input += outcome.inputTokens;
      cache.cached += outcome.cachedInputTokens;
    }
  }

  /**
   * A request meets the SLOs it can be judged on; one without a first token fails a TTFT SLO.
   * TTFT and e2e count from `fromMs`: the scheduled start in open loop, so a request that queued
   * misses them as its user would, and the actual send in closed loop.
   */
  private meetsSlo(outcome: RequestSuccess, fromMs: number, largestGapMs: number): boolean {
    const slo = this.options.slo;
    if (!slo) return true;
    const ttftMs = outcome.firstContentMs === null ? null : outcome.firstContentMs - fromMs;
    if (slo.e2eMs !== undefined && outcome.endMs - fromMs > slo.e2eMs) return false;
    if (slo.ttftMs !== undefined && (ttftMs === null || ttftMs > slo.ttftMs)) return false;
    const tpotMs =
      outcome.firstContentMs !== null && outcome.outputTokens > 1
        ? (outcome.endMs - outcome.firstContentMs) / (outcome.outputTokens - 1)
        : null;
    if (slo.tpotMs !== undefined && tpotMs !== null && tpotMs > slo.tpotMs) return false;
    if (slo.itlMs !== undefined && largestGapMs > slo.itlMs) return false;
    return true;
  }

  recordProbe(probe: ProbeResult): void {
    const context = this.result.context;
    if (probe.crossSwitch) {
      context.crossSwitchProbes++;
      if (probe.recalled) context.crossSwitchRecalled++;
      return;
    }
    context.probes++;
    if (probe.recalled) context.recalled++;
    const bucket = (context.byDistance[String(probe.distance)] ??= { probes: 0, recalled: 0 });
    bucket.probes++;
    if (probe.recalled) bucket.recalled++;
  }

  private logEntry(outcome: RequestOutcome, about: RequestAbout): RequestLogEntry {
    const { shard = 0, slice = 0 } = this.options;
    return {
      startMs: toEpochMs(outcome.startMs),
      ttftMs: outcome.ok && outcome.firstContentMs !== null ? outcome.firstContentMs - outcome.startMs : null,
      e2eMs: outcome.endMs - outcome.startMs,
      outputTokens: outcome.ok ? outcome.outputTokens : null,
      inputTokens: outcome.ok ? outcome.inputTokens : null,
      errorClass: outcome.ok ? null : outcome.errorClass,
      model: about.model,
      conversation: `${shard}.${slice}.${about.conversation}`,
      shard,
      weight: 1,
    };
  }

  /**
   * One request of a model-switch phase, in order, for the report's switch sequence (bounded: a
   * switch phase is one sequential conversation, at most cycles x models x requestsPerModel long).
   */
  recordSwitchRequest(model: string, role: RequestRole, outcome: RequestOutcome): void {
    const sequence = this.result.switchSequence;
    if (sequence.length >= MAX_SWITCH_SEQUENCE) return;
    const e2eMs = outcome.ok ? outcome.endMs - outcome.startMs : null;
    const loadMs = outcome.ok && outcome.loadMs !== undefined && outcome.loadMs >= 1 ? outcome.loadMs : null;
    sequence.push({ index: sequence.length, model, role, e2eMs, loadMs });
  }

  /** The target's connection churn over the phase (HTTP targets). */
  recordConnections(counts: ConnectionCounts | undefined): void {
    this.result.connections = counts ?? null;
  }

  /** The latest closed windows, for live progress. */
  recentWindows(): RecentWindows {
    return this.windows.recent(toEpochMs(performance.now()));
  }

  /**
   * Everything measured so far, for live criteria: the figures `finish` returns, as they stand now
   * (counters copied, the three latency histograms encoded: no work per request).
   */
  totals(): LiveTotals {
    return takeTotals(toEpochMs(performance.now()), this.result, this.histograms);
  }

  /** Progress so far, for the progress port. */
  counts(): { completed: number; errors: number } {
    return { completed: this.result.requests.ok, errors: this.result.requests.errors };
  }

  /** `stopped`: why this slice stopped its phase early (an abort condition it saw hold), if it did. */
  finish(
    memory: { threadHeap?: Record<string, MemorySample[]>; targetPerCycle?: Record<string, MemorySample[]>; heapSnapshots?: string[] } = {},
    stopped: StopReason | null = null,
  ): ShardResult {
    for (const name of HISTOGRAM_NAMES) this.result.histograms[name] = encodeHistogram(this.histograms[name]);
    this.result.stopped = stopped;
    this.result.series = this.windows.finish();
    this.result.requestLog = this.requestLog.finish();
    this.result.memory.threadHeap = memory.threadHeap ?? {};
    this.result.memory.targetPerCycle = memory.targetPerCycle ?? {};
    this.result.memory.heapSnapshots = memory.heapSnapshots ?? [];
    return this.result;
  }
}
