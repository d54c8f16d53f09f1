/**
 * Merged shard results -> the metrics of a phase. Percentiles come from the merged histograms,
 * never from averaging shards' percentiles. Definitions are the README's "Metrics" table.
 */
import { mergeEncoded, summarize } from '../shared/histogram';
import type { LeakVerdict, MemorySample, PhaseMetrics, Summary } from '../shared/phase-metrics';
import { formatValue } from '../shared/units';
import type { Phase } from '../shared/plan-schema';
import type { ShardResult } from '../shared/shard-result';

const TIMELINE_POINTS = 300;

function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Mean of the last three samples minus mean of the first three: robust to one noisy reading. */
function seriesGrowth(samples: MemorySample[]): number | null {
  if (samples.length < 2) return null;
  const edge = Math.min(3, Math.floor(samples.length / 2));
  return mean(samples.slice(-edge).map((s) => s.bytes)) - mean(samples.slice(0, edge).map((s) => s.bytes));
}

function maxOf(values: Array<number | null>): number | null {
  const present = values.filter((value): value is number => value !== null);
  return present.length > 0 ? Math.max(...present) : null;
}

const MIN_TREND_R2 = 0.6;

/** Least-squares trend of each series; the verdict of the steepest clear one. */
export function leakVerdict(seriesList: MemorySample[][], thresholdBytes: number): LeakVerdict {
  let steepest: LeakVerdict = { slopeBytesPerSecond: null, verdict: 'insufficient-data' };
  for (const samples of seriesList) {
    if (samples.length < 5) continue;
    const xs = samples.map((sample) => sample.tMs / 1000);
    const ys = samples.map((sample) => sample.bytes);
    const meanX = mean(xs);
    const meanY = mean(ys);
    const sxx = xs.reduce((sum, x) => sum + (x - meanX) ** 2, 0);
    const syy = ys.reduce((sum, y) => sum + (y - meanY) ** 2, 0);
    const sxy = xs.reduce((sum, x, i) => sum + (x - meanX) * ((ys[i] as number) - meanY), 0);
    if (sxx === 0) continue;
    const slope = sxy / sxx;
    const r2 = syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
    const spanSeconds = (xs.at(-1) as number) - (xs[0] as number);
    const verdict = slope > 0 && r2 >= MIN_TREND_R2 && slope * spanSeconds > thresholdBytes ? 'leak' : 'stable';
    if (steepest.slopeBytesPerSecond === null || slope > steepest.slopeBytesPerSecond) steepest = { slopeBytesPerSecond: slope, verdict };
  }
  return steepest;
}

/** All series on one timeline, thinned to a fixed number of points for reports and graphs. */
function timeline(series: Record<string, MemorySample[]>): MemorySample[] {
  const all = Object.values(series).flat().sort((a, b) => a.tMs - b.tMs);
  if (all.length <= TIMELINE_POINTS) return all;
  const step = all.length / TIMELINE_POINTS;
  return Array.from({ length: TIMELINE_POINTS }, (_, index) => all[Math.floor(index * step)] as MemorySample);
}

/**
 * Stability: the share of measurement windows in which the target completed requests, kept its
 * failure share at or under `maxErrorRate`, and completed at least `minThroughputRatio` of the
 * median window's requests. Windows run from the first to the last one with completions (empty
 * windows in between count, as stalls); the last, partial window is left out when there are 3+.
 */
export function computeStability(windows: ShardResult['windows'], phase: Phase): PhaseMetrics['stability'] {
  const { window: windowMs, maxErrorRate, minThroughputRatio } = phase.stability;
  const indices = Object.keys(windows).map(Number);
  if (indices.length === 0) return { value: null, windows: 0, stableWindows: 0, windowMs };
  const first = Math.min(...indices);
  let last = Math.max(...indices);
  if (last - first + 1 >= 3) last--;
  const counts = Array.from({ length: last - first + 1 }, (_, offset) => windows[String(first + offset)] ?? { ok: 0, errors: 0 });
  const sortedOk = counts.map((count) => count.ok).sort((a, b) => a - b);
  const medianOk = sortedOk[Math.floor((sortedOk.length - 1) / 2)] as number;
  const stable = counts.filter((count) => {
    const total = count.ok + count.errors;
    return total > 0 && count.errors / total <= maxErrorRate && count.ok >= minThroughputRatio * medianOk;
  }).length;
  return { value: stable / counts.length, windows: counts.length, stableWindows: stable, windowMs };
}

export function computePhaseMetrics(merged: ShardResult, phase: Phase): PhaseMetrics {
  const summary = (name: keyof ShardResult['histograms']) => summarize(mergeEncoded([merged.histograms[name]]));
  const { ok, good, errors, byClass } = merged.requests;
  const durationMs = merged.firstStartMs !== null && merged.lastEndMs !== null ? merged.lastEndMs - merged.firstStartMs : 0;
  const seconds = durationMs / 1000;
  const time = summary('switchUs');
  const warm = summary('warmUs');
  const { tokens, context, memory } = merged;

  // Growth is judged over the measured part only: before it, models are still loading.
  const measured = (series: Record<string, MemorySample[]>) => Object.values(series).map((samples) => samples.filter((sample) => sample.tMs >= phase.load.warmup));
  const rssSeries = measured(memory.harnessRss);
  const targetSeries = measured(memory.target);
  const perCycle = Object.values(memory.targetPerCycle).filter((series) => series.length >= 2);
  const targetGrowth = perCycle.length > 0 ? maxOf(perCycle.map((series) => (series.at(-1) as MemorySample).bytes - (series[0] as MemorySample).bytes)) : maxOf(targetSeries.map(seriesGrowth));

  return {
    durationMs,
    requests: { total: ok + errors, ok, errors, errorRate: ratio(errors, ok + errors), good, goodRatio: ratio(good, ok + errors), byClass },
    throughput: { requestsPerSecond: seconds > 0 ? ok / seconds : null, goodput: seconds > 0 ? good / seconds : null, outputTokensPerSecond: seconds > 0 ? tokens.output / seconds : null },
    latency: { e2e: summary('e2eUs'), response: summary('responseUs'), ttft: summary('ttftUs'), tpot: summary('tpotUs'), itl: summary('itlUs') },
    tokens: {
      output: tokens.output,
      input: tokens.input,
      perRequestRate: summary('tokenRateMilli'),
      source: tokens.fromServer > 0 ? (tokens.estimated > 0 ? 'mixed' : 'server') : tokens.estimated > 0 ? 'estimated' : 'none',
    },
    concurrency: { requested: phase.scenario === 'model-switch' ? 1 : phase.load.concurrency, mean: durationMs > 0 ? merged.concurrency.inFlightIntegralMs / durationMs : null, peak: merged.concurrency.peak },
    context: {
      probes: context.probes,
      recalled: context.recalled,
      preservation: ratio(context.recalled, context.probes),
      crossSwitchProbes: context.crossSwitchProbes,
      crossSwitchRecalled: context.crossSwitchRecalled,
      accuracy: ratio(context.crossSwitchRecalled, context.crossSwitchProbes),
      byDistance: Object.entries(context.byDistance)
        .map(([distance, counts]) => ({ distance: Number(distance), ...counts }))
        .sort((a, b) => a.distance - b.distance),
    },
    switch: { count: merged.switches, time, warm, penaltyP50: time && warm ? time.p50 - warm.p50 : null, loadTime: summary('loadUs') },
    memory: {
      harness: {
        rssPeak: maxOf(rssSeries.flat().map((s) => s.bytes)),
        rssGrowth: maxOf(rssSeries.map(seriesGrowth)),
        heapPeak: maxOf(Object.values(memory.threadHeap).flat().map((s) => s.bytes)),
        samples: timeline(memory.harnessRss),
        ...leakVerdict(rssSeries, phase.memory.leakThreshold),
      },
      target: {
        source: memory.targetSource,
        peak: maxOf(targetSeries.flat().map((s) => s.bytes)),
        growth: targetGrowth,
        samples: timeline(memory.target),
        // Model switches: judge the samples taken with the same model loaded, cycle after cycle.
        ...leakVerdict(perCycle.length > 0 ? perCycle : targetSeries, phase.memory.leakThreshold),
      },
      gcPauses: summary('gcUs'),
      heapSnapshots: memory.heapSnapshots,
    },
    stability: computeStability(merged.windows, phase),
    load: { mode: phase.load.mode, ...merged.arrivals, schedulingLag: summary('lagUs') },
    generator: generatorHealth(summary('loopLagUs'), summary('lagUs'), merged.generator.busiestUtilization, phase),
  };
}

/**
 * The generator is untrustworthy when one of its threads was too busy, its event loop lagged, or
 * (open loop) it started arrivals late: then the latencies measure the harness, not the target.
 */
export function generatorHealth(loopLag: Summary | null, schedulingLag: Summary | null, busiestUtilization: number, phase: Phase): PhaseMetrics['generator'] {
  const limits = phase.generator;
  const warnings: string[] = [];
  if (loopLag && loopLag.p99 > limits.maxEventLoopLag) {
    warnings.push(`generator event-loop lag p99 ${formatValue('duration', loopLag.p99)} > ${formatValue('duration', limits.maxEventLoopLag)}`);
  }
  if (busiestUtilization > limits.maxUtilization) {
    warnings.push(`busiest generator thread ${formatValue('ratio', busiestUtilization)} busy > ${formatValue('ratio', limits.maxUtilization)}`);
  }
  if (schedulingLag && schedulingLag.p99 > limits.maxSchedulingLag) {
    warnings.push(`open-loop scheduling lag p99 ${formatValue('duration', schedulingLag.p99)} > ${formatValue('duration', limits.maxSchedulingLag)}`);
  }
  return { eventLoopLag: loopLag, busiestUtilization: loopLag ? busiestUtilization : null, trustworthy: warnings.length === 0, warnings };
}
