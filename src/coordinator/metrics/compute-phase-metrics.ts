/**
 * Merged shard results -> the metrics of a phase. Percentiles come from the merged histograms,
 * never from averaging shards' percentiles. Definitions are the README's "Metrics" table.
 */
import { mergeEncoded, summarize, type Histogram } from '../../shared/histogram';
import { memoryGrowth } from '../../shared/memory-growth';
import type { MemorySample, PhaseMetrics, Summary } from '../../shared/phase-metrics';
import type { Phase } from '../../shared/phase-schema';
import { HISTOGRAM_NAMES, type HistogramName, type ShardResult } from '../../shared/shard-result';
import { judgeGenerator, judgedTail, type GeneratorSignals } from './generator-verdict';
import { leakVerdict } from './leak-verdict';
import { distributionOf, phaseTimeline } from './phase-timeline';
import { computeStability } from './stability';

const TIMELINE_POINTS = 300;

function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

function maxOf(values: Array<number | null>): number | null {
  const present = values.filter((value): value is number => value !== null);
  return present.length > 0 ? Math.max(...present) : null;
}

/** All series on one timeline, thinned to a fixed number of points for reports and graphs. */
function timeline(series: Record<string, MemorySample[]>): MemorySample[] {
  const all = Object.values(series)
    .flat()
    .sort((a, b) => a.tMs - b.tMs);
  if (all.length <= TIMELINE_POINTS) return all;
  const step = all.length / TIMELINE_POINTS;
  return Array.from({ length: TIMELINE_POINTS }, (_, index) => all[Math.floor(index * step)] as MemorySample);
}

/**
 * Memory of harness and target. Growth and leak verdicts are judged over the measured part only
 * (before it, models are still loading); for model switches, on the samples taken at the end of
 * each cycle, when the same model is loaded.
 */
/** Why a target memory source fails its phase: it was set, and every reading failed. */
function unreadable(memory: ShardResult['memory']): string | null {
  const read = Object.values(memory.target).some((samples) => samples.length > 0);
  if (read || memory.targetReadFailures === 0) return null;
  return `target memory (${memory.targetSource}) gave no reading in ${memory.targetReadFailures} tries: ${memory.targetReadError ?? 'no reason given'}`;
}

function memoryMetrics(memory: ShardResult['memory'], phase: Phase, gcPauses: Summary | null): PhaseMetrics['memory'] {
  const measured = (series: Record<string, MemorySample[]>) =>
    Object.values(series).map((samples) => samples.filter((sample) => sample.tMs >= phase.load.warmupMs));
  const rssSeries = measured(memory.harnessRss);
  const targetSeries = measured(memory.target);
  const perCycle = Object.values(memory.targetPerCycle).filter((series) => series.length >= 2);
  const cycleGrowth = (series: MemorySample[]) => (series.at(-1) as MemorySample).bytes - (series[0] as MemorySample).bytes;
  const { leakThresholdBytes } = phase.memory;
  return {
    harness: {
      rssPeak: maxOf(rssSeries.flat().map((s) => s.bytes)),
      rssGrowth: maxOf(rssSeries.map(memoryGrowth)),
      heapPeak: maxOf(
        Object.values(memory.threadHeap)
          .flat()
          .map((s) => s.bytes),
      ),
      samples: timeline(memory.harnessRss),
      ...leakVerdict(rssSeries, leakThresholdBytes),
    },
    target: {
      source: memory.targetSource,
      unit: memory.targetUnit,
      peak: maxOf(targetSeries.flat().map((s) => s.bytes)),
      growth: perCycle.length > 0 ? maxOf(perCycle.map(cycleGrowth)) : maxOf(targetSeries.map(memoryGrowth)),
      samples: timeline(memory.target),
      failedReadings: memory.targetReadFailures,
      readError: memory.targetReadError,
      unreadable: unreadable(memory),
      ...leakVerdict(perCycle.length > 0 ? perCycle : targetSeries, leakThresholdBytes, memory.targetUnit),
    },
    gcPauses,
    heapSnapshots: memory.heapSnapshots,
  };
}

function contextMetrics(context: ShardResult['context']): PhaseMetrics['context'] {
  return {
    probes: context.probes,
    recalled: context.recalled,
    preservation: ratio(context.recalled, context.probes),
    crossSwitchProbes: context.crossSwitchProbes,
    crossSwitchRecalled: context.crossSwitchRecalled,
    accuracy: ratio(context.crossSwitchRecalled, context.crossSwitchProbes),
    byDistance: Object.entries(context.byDistance)
      .map(([distance, counts]) => ({ distance: Number(distance), ...counts }))
      .sort((a, b) => a.distance - b.distance),
  };
}

function switchMetrics(merged: ShardResult, summary: (name: HistogramName) => Summary | null): PhaseMetrics['switch'] {
  const time = summary('switchUs');
  const warm = summary('warmUs');
  const penaltyP50 = time && warm ? time.p50 - warm.p50 : null;
  return { count: merged.switches, time, warm, penaltyP50, loadTime: summary('loadUs'), sequence: merged.switchSequence };
}

function tokenSource({ fromServer, estimated }: ShardResult['tokens']): PhaseMetrics['tokens']['source'] {
  if (fromServer > 0) return estimated > 0 ? 'mixed' : 'server';
  return estimated > 0 ? 'estimated' : 'none';
}

/** The judged tail (`judgedTail`): the smallest latency measured among the judged metrics, at the judged percentile. */
function tailLatency(phase: Phase, latency: Record<'e2e' | 'response' | 'ttft', Summary | null>): GeneratorSignals['tail'] {
  const { percentile, metrics } = judgedTail(phase);
  let tail: GeneratorSignals['tail'] = null;
  for (const metric of metrics) {
    const summary = latency[metric as keyof typeof latency];
    if (summary && (tail === null || summary[percentile] < tail.latencyMs))
      tail = { percentile, metric: metric === 'ttft' ? 'TTFT' : metric, latencyMs: summary[percentile] };
  }
  return tail;
}

/** What the shards' results do not hold: how late a built-in mock serving from the coordinator's process sent first tokens. */
export interface PhaseContext {
  mockLateness?: Summary | null;
}

export function computePhaseMetrics(merged: ShardResult, phase: Phase, context: PhaseContext = {}): PhaseMetrics {
  // Each merged histogram is decoded once: summaries and distributions read the same one.
  const histograms = Object.fromEntries(HISTOGRAM_NAMES.map((name) => [name, mergeEncoded([merged.histograms[name]])])) as Record<
    HistogramName,
    Histogram
  >;
  const summary = (name: HistogramName) => summarize(histograms[name]);
  const { ok, good, errors, byClass, samples } = merged.requests;
  const durationMs = merged.firstStartMs !== null && merged.lastEndMs !== null ? merged.lastEndMs - merged.firstStartMs : 0;
  const perSecond = (count: number) => (durationMs > 0 ? count / (durationMs / 1000) : null);
  const { tokens } = merged;
  const { stability, isStable } = computeStability(merged.series, phase, merged.lastEndMs);
  const loopLag = summary('loopLagUs');
  const { busiestUtilization, machines } = merged.generator;
  const latency = { e2e: summary('e2eUs'), response: summary('responseUs'), ttft: summary('ttftUs') };

  return {
    durationMs,
    stopped: merged.stopped,
    requests: {
      total: ok + errors,
      ok,
      errors,
      errorRate: ratio(errors, ok + errors),
      good,
      goodRatio: ratio(good, ok + errors),
      byClass,
      samples,
    },
    throughput: { requestsPerSecond: perSecond(ok), goodput: perSecond(good), outputTokensPerSecond: perSecond(tokens.output) },
    latency: {
      ...latency,
      tpot: summary('tpotUs'),
      itl: summary('itlUs'),
    },
    tokens: {
      output: tokens.output,
      input: tokens.input,
      perRequestRate: summary('tokenRateMilli'),
      source: tokenSource(tokens),
      cachedInput: tokens.cache.requests > 0 ? tokens.cache.cached : null,
      cachedInputRatio: tokens.cache.requests > 0 ? ratio(tokens.cache.cached, tokens.cache.input) : null,
    },
    connections: merged.connections,
    concurrency: {
      requested: phase.scenario === 'model-switch' ? 1 : phase.load.concurrency,
      mean: durationMs > 0 ? merged.concurrency.inFlightIntegralMs / durationMs : null,
      peak: merged.concurrency.peak,
    },
    context: contextMetrics(merged.context),
    switch: switchMetrics(merged, summary),
    memory: memoryMetrics(merged.memory, phase, summary('gcUs')),
    stability,
    timeline: phaseTimeline(merged.series, phase, isStable, merged.lastEndMs),
    distributions: {
      e2e: distributionOf(histograms.e2eUs),
      ttft: distributionOf(histograms.ttftUs),
      itl: distributionOf(histograms.itlUs),
      tpot: distributionOf(histograms.tpotUs),
    },
    load: { mode: phase.load.mode, ...merged.arrivals, schedulingLag: summary('lagUs') },
    generator: judgeGenerator(
      {
        loopLag,
        schedulingLag: summary('lagUs'),
        // A module target runs in the generator threads: their pauses are its own, measured, not the harness's fault.
        gcPauses: merged.memory.targetSource === 'thread-heap' ? null : summary('gcUs'),
        busiestUtilization,
        machines,
        mockLateness: context.mockLateness ?? null,
        tail: tailLatency(phase, latency),
      },
      phase,
    ),
  };
}
