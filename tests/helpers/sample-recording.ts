/**
 * Records simulated requests of a phase the way worker threads do (two shards, each with its own
 * `WindowRecorder` and whole-phase histograms), then merges and reads them with the real producers
 * (`mergeSeries`, `phaseTimeline`, `distributionOf`, `summarize`): what sample reports are made of.
 */
import { computeStability } from '../../src/coordinator/metrics/stability';
import { distributionOf, phaseTimeline } from '../../src/coordinator/metrics/phase-timeline';
import { createHistogram, summarize, type Histogram } from '../../src/shared/histogram';
import type { PhaseMetrics } from '../../src/shared/phase-metrics';
import type { Phase } from '../../src/shared/phase-schema';
import { mergeSeries, type WindowSeries } from '../../src/shared/window-series';
import { WindowRecorder } from '../../src/worker/window-recorder';

/** Epoch of the measured part's start in every sample: 2026-11-20 09:00 UTC. */
export const SAMPLE_EPOCH_MS = Date.UTC(2026, 10, 20, 9, 0, 0);

export interface SampleRequest {
  shard: number;
  /** Milliseconds since the measured part started. */
  startMs: number;
  endMs: number;
  errorClass?: string;
  ttftMs?: number;
  outputTokens?: number;
}

type Event = { atMs: number; apply: (recorder: WindowRecorder) => void; shard: number };

const HISTOGRAMS = ['e2e', 'ttft', 'itl', 'tpot', 'loopLag', 'tokenRate'] as const;

export class SampleRecording {
  private readonly events: Event[] = [];
  readonly histograms = Object.fromEntries(HISTOGRAMS.map((name) => [name, createHistogram()])) as Record<
    (typeof HISTOGRAMS)[number],
    Histogram
  >;
  ok = 0;
  errors = 0;
  readonly byClass: Record<string, number> = {};
  outputTokens = 0;
  inFlightMs = 0;
  scheduledCount = 0;
  lastEndMs = 0;

  constructor(private readonly shards = 2) {}

  /** A request from send to last byte; ITL gaps are spread evenly with a little jitter. */
  request(request: SampleRequest, random: () => number): void {
    const { shard, startMs, endMs, errorClass } = request;
    const e2eMs = endMs - startMs;
    this.lastEndMs = Math.max(this.lastEndMs, endMs);
    this.inFlightMs += e2eMs;
    // Recorded when the request ends, as a thread does: spans reaching into the future would close windows early.
    this.events.push({ atMs: endMs, shard, apply: (r) => r.recordInFlight(SAMPLE_EPOCH_MS + startMs, SAMPLE_EPOCH_MS + endMs, 1) });
    if (errorClass) {
      this.errors++;
      this.byClass[errorClass] = (this.byClass[errorClass] ?? 0) + 1;
      this.events.push({
        atMs: endMs,
        shard,
        apply: (r) => r.recordFailure(SAMPLE_EPOCH_MS + endMs, errorClass),
      });
      return;
    }
    const tokens = request.outputTokens ?? 32;
    const ttftMs = request.ttftMs ?? e2eMs * 0.2;
    const gapMs = (e2eMs - ttftMs) / Math.max(1, tokens - 1);
    const itlUs = Array.from({ length: tokens - 1 }, () => Math.max(1, Math.round(gapMs * 1000 * (0.6 + 0.8 * random()))));
    this.ok++;
    this.outputTokens += tokens;
    this.histograms.e2e.recordValue(Math.round(e2eMs * 1000));
    this.histograms.ttft.recordValue(Math.round(ttftMs * 1000));
    this.histograms.tpot.recordValue(Math.round(gapMs * 1000));
    this.histograms.tokenRate.recordValue(Math.round((tokens / (e2eMs / 1000)) * 1000));
    for (const gap of itlUs) this.histograms.itl.recordValue(gap);
    const end = SAMPLE_EPOCH_MS + endMs;
    this.events.push({
      atMs: endMs,
      shard,
      apply: (r) => {
        r.recordSuccess(end, Math.round(e2eMs * 1000), Math.round(ttftMs * 1000), tokens);
        for (const gap of itlUs) r.recordGap(end, gap);
      },
    });
  }

  /** An open-loop arrival scheduled at `atMs`. */
  scheduled(shard: number, atMs: number): void {
    this.scheduledCount++;
    this.events.push({ atMs, shard, apply: (r) => r.recordScheduled(SAMPLE_EPOCH_MS + atMs) });
  }

  /** The worst event-loop lag of a generator thread seen at `atMs`. */
  loopLag(shard: number, atMs: number, lagMs: number): void {
    this.histograms.loopLag.recordValue(Math.round(lagMs * 1000));
    this.events.push({ atMs, shard, apply: (r) => r.recordLoopLag(SAMPLE_EPOCH_MS + atMs, lagMs) });
  }

  /** The shards' series, recorded in time order as threads record them, merged by adding. */
  series(windowMs: number): WindowSeries {
    const recorders = Array.from({ length: this.shards }, () => new WindowRecorder(SAMPLE_EPOCH_MS, windowMs));
    for (const event of [...this.events].sort((a, b) => a.atMs - b.atMs))
      event.apply(recorders[event.shard % this.shards] as WindowRecorder);
    return recorders.map((recorder) => recorder.finish()).reduce((merged, series) => mergeSeries(merged, series));
  }
}

/** Stable windows as the stability metric judges them; null for the last, partial window of 3+. */
/** Timeline, distributions, latency and stability of a recording, read by the real producers. */
export function recordedMetrics(
  recording: SampleRecording,
  phase: Phase,
): Pick<PhaseMetrics, 'timeline' | 'distributions' | 'latency' | 'stability'> {
  const series = recording.series(phase.stability.windowMs);
  const { stability, isStable } = computeStability(series, phase);
  const timeline = phaseTimeline(series, phase, isStable, SAMPLE_EPOCH_MS + recording.lastEndMs);
  const { e2e, ttft, itl, tpot } = recording.histograms;
  return {
    timeline,
    distributions: { e2e: distributionOf(e2e), ttft: distributionOf(ttft), itl: distributionOf(itl), tpot: distributionOf(tpot) },
    latency: { e2e: summarize(e2e), response: null, ttft: summarize(ttft), tpot: summarize(tpot), itl: summarize(itl) },
    stability,
  };
}
