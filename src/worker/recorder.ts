/**
 * Records one thread's requests into HdrHistograms (integer microseconds) and counters, never into
 * a list of samples, so memory stays flat however long a soak runs. Times are taken with
 * `performance.now()` and turned into epoch ms with the thread's time origin for windows and spans.
 */
import { createHistogram, encodeHistogram, type Histogram } from '../shared/histogram';
import type { MemorySample } from '../shared/phase-metrics';
import { HISTOGRAM_NAMES, emptyShardResult, type HistogramName, type ShardResult } from '../shared/shard-result';
import type { ProbeResult } from './conversation';
import type { RequestOutcome } from './targets/llm-target';

const toUs = (ms: number) => Math.max(1, Math.round(ms * 1000));
const toEpochMs = (perfMs: number) => performance.timeOrigin + perfMs;

export type RequestRole = 'plain' | 'switch' | 'warm';

export class Recorder {
  private readonly histograms = Object.fromEntries(HISTOGRAM_NAMES.map((name) => [name, createHistogram()])) as Record<HistogramName, Histogram>;
  private readonly result: ShardResult;
  private inFlight = 0;
  private lastChangeMs: number | null = null;
  private readonly measureFromEpochMs: number;

  /** `measureFromEpochMs`: requests started earlier are warm-up, sent but not recorded. */
  constructor(
    private readonly options: { measureFromEpochMs: number; windowMs: number; requestedConcurrency: number },
  ) {
    this.measureFromEpochMs = options.measureFromEpochMs;
    this.result = emptyShardResult(options.requestedConcurrency);
  }

  /** Whether a request starting now is measured. */
  isMeasuring(): boolean {
    return toEpochMs(performance.now()) >= this.measureFromEpochMs;
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

  record(outcome: RequestOutcome, role: RequestRole = 'plain'): void {
    this.moveInFlight(-1);
    const result = this.result;
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
    if (outcome.firstContentMs !== null) {
      const ttftMs = outcome.firstContentMs - outcome.startMs;
      this.histograms.ttftUs.recordValue(toUs(ttftMs));
      if (outcome.outputTokens > 1) this.histograms.tpotUs.recordValue(toUs((e2eMs - ttftMs) / (outcome.outputTokens - 1)));
    }
    const chunks = outcome.contentChunkTimesMs;
    for (let index = 1; index < chunks.length; index++) this.histograms.itlUs.recordValue(toUs((chunks[index] as number) - (chunks[index - 1] as number)));
    result.tokens.output += outcome.outputTokens;
    result.tokens.input += outcome.inputTokens;
    if (outcome.usageFromServer) result.tokens.fromServer++;
    else result.tokens.estimated++;
    if (role === 'switch') result.switches++;
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

  finish(memory: { threadHeap?: Record<string, MemorySample[]>; targetPerCycle?: Record<string, MemorySample[]> } = {}): ShardResult {
    for (const name of HISTOGRAM_NAMES) this.result.histograms[name] = encodeHistogram(this.histograms[name]);
    this.result.memory.threadHeap = memory.threadHeap ?? {};
    this.result.memory.targetPerCycle = memory.targetPerCycle ?? {};
    return this.result;
  }
}
