/**
 * Records one thread's requests into HdrHistograms (integer microseconds) and counters, never into
 * a list of samples, so memory stays flat however long a soak runs. Times are taken with
 * `performance.now()` and turned into epoch ms with the thread's time origin for windows and spans.
 */
import { createHistogram, encodeHistogram, type Histogram } from '../shared/histogram';
import type { MemorySample } from '../shared/phase-metrics';
import { HISTOGRAM_NAMES, emptyShardResult, type HistogramName, type ShardResult } from '../shared/shard-result';
import type { ProbeResult } from './conversation';
import type { Phase } from '../shared/plan-schema';
import type { RequestOutcome, RequestSuccess } from './targets/llm-target';

const toUs = (ms: number) => Math.max(1, Math.round(ms * 1000));
export const toEpochMs = (perfMs: number) => performance.timeOrigin + perfMs;
export const toPerfMs = (epochMs: number) => epochMs - performance.timeOrigin;

/** An open-loop arrival started later than this after its scheduled time counts as late. */
const LATE_MS = 10;

export type RequestRole = 'plain' | 'switch' | 'warm';

export class Recorder {
  private readonly histograms = Object.fromEntries(HISTOGRAM_NAMES.map((name) => [name, createHistogram()])) as Record<HistogramName, Histogram>;
  private readonly result: ShardResult;
  private inFlight = 0;
  private lastChangeMs: number | null = null;
  private readonly measureFromEpochMs: number;

  /**
   * Requests (open loop: arrivals) starting before `measureFromEpochMs` are warm-up, from
   * `measureUntilEpochMs` on cool-down: sent, not recorded.
   */
  constructor(
    private readonly options: { measureFromEpochMs: number; measureUntilEpochMs: number; windowMs: number; requestedConcurrency: number; slo?: Phase['slo'] },
  ) {
    this.measureFromEpochMs = options.measureFromEpochMs;
    this.result = emptyShardResult(options.requestedConcurrency);
  }

  /** Whether a request starting at `epochMs` (now by default) is measured. */
  isMeasuring(epochMs = toEpochMs(performance.now())): boolean {
    return epochMs >= this.measureFromEpochMs && epochMs < this.options.measureUntilEpochMs;
  }

  /** Open loop: an arrival in the measured part was scheduled, or (`dropped`) one never started. */
  arrival(dropped = false): void {
    if (dropped) this.result.arrivals.dropped++;
    else this.result.arrivals.scheduled++;
  }

  /** Open loop: how late the generator got to an arrival (before any wait for a free slot). */
  recordSchedulingLag(lagMs: number): void {
    this.histograms.lagUs.recordValue(toUs(Math.max(0, lagMs)));
  }

  /** How late a generator thread's timer fired: the generator's own health. */
  recordLoopLag(lagMs: number): void {
    this.histograms.loopLagUs.recordValue(toUs(lagMs));
  }

  recordGcPause(durationMs: number): void {
    this.histograms.gcUs.recordValue(toUs(durationMs));
  }

  recordUtilization(utilization: number): void {
    this.result.generator.busiestUtilization = Math.max(this.result.generator.busiestUtilization, utilization);
  }

  private moveInFlight(delta: number): void {
    const now = performance.now();
    if (this.lastChangeMs !== null) this.result.concurrency.inFlightIntegralMs += this.inFlight * (now - this.lastChangeMs);
    this.lastChangeMs = now;
    this.inFlight += delta;
    this.result.concurrency.peak = Math.max(this.result.concurrency.peak, this.inFlight);
  }

  /** Marks a measured request as in flight; call `record` when it ends. */
  started(): void {
    this.moveInFlight(1);
  }

  /** `intendedStartMs` (open loop): when the request was scheduled to start, in `performance.now()` ms. */
  record(outcome: RequestOutcome, role: RequestRole = 'plain', intendedStartMs?: number): void {
    this.moveInFlight(-1);
    const result = this.result;
    if (intendedStartMs !== undefined) {
      if (outcome.startMs - intendedStartMs > LATE_MS) result.arrivals.late++;
      if (outcome.ok) this.histograms.responseUs.recordValue(toUs(outcome.endMs - intendedStartMs));
    }
    const startEpochMs = toEpochMs(outcome.startMs);
    const endEpochMs = toEpochMs(outcome.endMs);
    result.firstStartMs = Math.min(result.firstStartMs ?? startEpochMs, startEpochMs);
    result.lastEndMs = Math.max(result.lastEndMs ?? endEpochMs, endEpochMs);
    const windowKey = String(Math.max(0, Math.floor((endEpochMs - this.measureFromEpochMs) / this.options.windowMs)));
    const window = (result.windows[windowKey] ??= { ok: 0, errors: 0 });
    if (!outcome.ok) {
      window.errors++;
      result.requests.errors++;
      result.requests.byClass[outcome.errorClass] = (result.requests.byClass[outcome.errorClass] ?? 0) + 1;
      return;
    }
    window.ok++;
    result.requests.ok++;
    const e2eMs = outcome.endMs - outcome.startMs;
    this.histograms.e2eUs.recordValue(toUs(e2eMs));
    if (role === 'switch') this.histograms.switchUs.recordValue(toUs(e2eMs));
    if (role === 'warm') this.histograms.warmUs.recordValue(toUs(e2eMs));
    // Ollama reports a few µs of "load" for a resident model: only a real load counts.
    if (outcome.loadMs !== undefined && outcome.loadMs >= 1) this.histograms.loadUs.recordValue(toUs(outcome.loadMs));
    if (outcome.firstContentMs !== null) {
      const ttftMs = outcome.firstContentMs - outcome.startMs;
      this.histograms.ttftUs.recordValue(toUs(ttftMs));
      if (outcome.outputTokens > 1) this.histograms.tpotUs.recordValue(toUs((e2eMs - ttftMs) / (outcome.outputTokens - 1)));
    }
    const chunks = outcome.contentChunkTimesMs;
    let largestGapMs = 0;
    for (let index = 1; index < chunks.length; index++) {
      const gapMs = (chunks[index] as number) - (chunks[index - 1] as number);
      largestGapMs = Math.max(largestGapMs, gapMs);
      this.histograms.itlUs.recordValue(toUs(gapMs));
    }
    if (this.meetsSlo(outcome, intendedStartMs ?? outcome.startMs, largestGapMs)) result.requests.good++;
    if (outcome.outputTokens > 0 && e2eMs > 0) this.histograms.tokenRateMilli.recordValue(Math.max(1, Math.round((outcome.outputTokens / (e2eMs / 1000)) * 1000)));
    result.tokens.output += outcome.outputTokens;
    result.tokens.input += outcome.inputTokens;
    if (outcome.usageFromServer) result.tokens.fromServer++;
    else result.tokens.estimated++;
    if (role === 'switch') result.switches++;
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
    if (slo.e2e !== undefined && outcome.endMs - fromMs > slo.e2e) return false;
    if (slo.ttft !== undefined && (ttftMs === null || ttftMs > slo.ttft)) return false;
    if (slo.tpot !== undefined && outcome.firstContentMs !== null && outcome.outputTokens > 1 && (outcome.endMs - outcome.firstContentMs) / (outcome.outputTokens - 1) > slo.tpot) return false;
    if (slo.itl !== undefined && largestGapMs > slo.itl) return false;
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

  /** Progress so far, for the progress port. */
  counts(): { completed: number; errors: number } {
    return { completed: this.result.requests.ok, errors: this.result.requests.errors };
  }

  finish(memory: { threadHeap?: Record<string, MemorySample[]>; targetPerCycle?: Record<string, MemorySample[]>; heapSnapshots?: string[] } = {}): ShardResult {
    for (const name of HISTOGRAM_NAMES) this.result.histograms[name] = encodeHistogram(this.histograms[name]);
    this.result.memory.threadHeap = memory.threadHeap ?? {};
    this.result.memory.targetPerCycle = memory.targetPerCycle ?? {};
    this.result.memory.heapSnapshots = memory.heapSnapshots ?? [];
    return this.result;
  }
}
