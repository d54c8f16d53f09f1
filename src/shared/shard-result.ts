/**
 * The raw, mergeable result of a shard (or of one thread's slice of it). Everything in it adds up:
 * histograms are added, counters summed, windows summed by index, memory series kept per source.
 * Merging is associative, so thread -> shard -> phase merging gives the same phase result as
 * recording everything in one place.
 */
import { createHistogram, encodeHistogram, mergeEncodedToEncoded } from './histogram';
import type { MemorySample } from './phase-metrics';

/**
 * e2e: send to last byte (service time). response: scheduled start to last byte (open loop only).
 * lag: scheduled start to when the generator got to it (open loop). load: model load time the
 * server reported (Ollama `load_duration`), for requests that paid one. gc: garbage-collection
 * pauses in the generator threads. tokenRateMilli: output tokens per second of each request, in
 * thousandths (histograms hold integers). loopLag: event-loop delay of generator threads.
 */
export const HISTOGRAM_NAMES = ['e2eUs', 'responseUs', 'lagUs', 'ttftUs', 'tpotUs', 'itlUs', 'switchUs', 'warmUs', 'loadUs', 'loopLagUs', 'gcUs', 'tokenRateMilli'] as const;
export type HistogramName = (typeof HISTOGRAM_NAMES)[number];

export interface WindowCounts {
  ok: number;
  errors: number;
}

export interface ShardInfo {
  shardIndex: number;
  worker: string;
  /** Where the shard ran: host name, Node version, cores. */
  host: string;
  node: string;
  cpus: number;
  threads: number;
  /** Times this shard was started (more than 1 after a retry). */
  attempts: number;
  durationMs: number;
  /** Epoch ms of this shard's first measured request: shows that shards started together. */
  firstRequestAtMs: number | null;
}

export interface ShardResult {
  shards: ShardInfo[];
  /** Epoch ms of the earliest measured request start and latest end; null when none ran. */
  firstStartMs: number | null;
  lastEndMs: number | null;
  /** Encoded HdrHistograms; times in microseconds. */
  histograms: Record<HistogramName, string>;
  /** `good`: successful requests that met every per-request SLO of the phase. */
  requests: { ok: number; good: number; errors: number; byClass: Record<string, number> };
  tokens: { output: number; input: number; fromServer: number; estimated: number };
  concurrency: { requested: number; inFlightIntegralMs: number; peak: number };
  context: {
    probes: number;
    recalled: number;
    crossSwitchProbes: number;
    crossSwitchRecalled: number;
    /** Turn distance -> probes and recalls (same-model probes). */
    byDistance: Record<string, { probes: number; recalled: number }>;
  };
  switches: number;
  /** Open loop: arrivals scheduled in the measured part, started late (> 10 ms), never started. */
  arrivals: { scheduled: number; late: number; dropped: number };
  /** Event-loop utilization (0..1) of the busiest generator thread. */
  generator: { busiestUtilization: number };
  /** Window index (since the phase's startAtMs) -> completions in it. */
  windows: Record<string, WindowCounts>;
  memory: {
    /** Series name (worker process) -> RSS samples. */
    harnessRss: Record<string, MemorySample[]>;
    /** Series name (worker thread) -> heapUsed samples. */
    threadHeap: Record<string, MemorySample[]>;
    targetSource: string;
    /** Series name (sampler) -> target memory samples. */
    target: Record<string, MemorySample[]>;
    /** Series name -> target memory at the end of each model-switch cycle (same model loaded). */
    targetPerCycle: Record<string, MemorySample[]>;
    /** Heap snapshots written for a module target whose heap grew past the leak threshold. */
    heapSnapshots: string[];
  };
}

function addCounts<T extends object>(into: T, from: T): T {
  const sum = { ...into } as Record<string, number>;
  for (const [key, value] of Object.entries(from) as Array<[string, number]>) sum[key] = (sum[key] ?? 0) + value;
  return sum as T;
}

function addKeyed<T>(into: Record<string, T>, from: Record<string, T>, add: (a: T, b: T) => T): Record<string, T> {
  const sum = { ...into };
  for (const [key, value] of Object.entries(from)) sum[key] = key in sum ? add(sum[key] as T, value) : value;
  return sum;
}

const concat = (a: MemorySample[], b: MemorySample[]) => [...a, ...b].sort((x, y) => x.tMs - y.tMs);

function minOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function maxOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

/** Merges results of slices or shards that ran at the same time against the same target. */
export function mergeShardResults(results: readonly ShardResult[]): ShardResult {
  const [first, ...rest] = results;
  if (!first) throw new Error('mergeShardResults needs at least one result');
  if (rest.length === 0) return first;
  const histograms = {} as Record<HistogramName, string>;
  for (const name of HISTOGRAM_NAMES) histograms[name] = mergeEncodedToEncoded(results.map((result) => result.histograms[name]));
  return rest.reduce<ShardResult>(
    (sum, next) => ({
      shards: [...sum.shards, ...next.shards],
      firstStartMs: minOrNull(sum.firstStartMs, next.firstStartMs),
      lastEndMs: maxOrNull(sum.lastEndMs, next.lastEndMs),
      histograms,
      requests: {
        ok: sum.requests.ok + next.requests.ok,
        good: sum.requests.good + next.requests.good,
        errors: sum.requests.errors + next.requests.errors,
        byClass: addCounts(sum.requests.byClass, next.requests.byClass),
      },
      tokens: addCounts(sum.tokens, next.tokens),
      concurrency: {
        requested: sum.concurrency.requested + next.concurrency.requested,
        inFlightIntegralMs: sum.concurrency.inFlightIntegralMs + next.concurrency.inFlightIntegralMs,
        // Slices and shards run at the same time, so their peaks may coincide: the sum is an upper bound.
        peak: sum.concurrency.peak + next.concurrency.peak,
      },
      context: {
        probes: sum.context.probes + next.context.probes,
        recalled: sum.context.recalled + next.context.recalled,
        crossSwitchProbes: sum.context.crossSwitchProbes + next.context.crossSwitchProbes,
        crossSwitchRecalled: sum.context.crossSwitchRecalled + next.context.crossSwitchRecalled,
        byDistance: addKeyed(sum.context.byDistance, next.context.byDistance, addCounts),
      },
      switches: sum.switches + next.switches,
      arrivals: addCounts(sum.arrivals, next.arrivals),
      generator: { busiestUtilization: Math.max(sum.generator.busiestUtilization, next.generator.busiestUtilization) },
      windows: addKeyed(sum.windows, next.windows, addCounts),
      memory: {
        harnessRss: addKeyed(sum.memory.harnessRss, next.memory.harnessRss, concat),
        threadHeap: addKeyed(sum.memory.threadHeap, next.memory.threadHeap, concat),
        targetSource: sum.memory.targetSource === 'none' ? next.memory.targetSource : sum.memory.targetSource,
        target: addKeyed(sum.memory.target, next.memory.target, concat),
        targetPerCycle: addKeyed(sum.memory.targetPerCycle, next.memory.targetPerCycle, concat),
        heapSnapshots: [...sum.memory.heapSnapshots, ...next.memory.heapSnapshots],
      },
    }),
    first,
  );
}

/** A result with nothing in it: the starting point of a recorder, or a phase where no shard finished. */
export function emptyShardResult(requestedConcurrency = 0): ShardResult {
  const empty = encodeHistogram(createHistogram());
  return {
    shards: [],
    firstStartMs: null,
    lastEndMs: null,
    histograms: Object.fromEntries(HISTOGRAM_NAMES.map((name) => [name, empty])) as Record<HistogramName, string>,
    requests: { ok: 0, good: 0, errors: 0, byClass: {} },
    tokens: { output: 0, input: 0, fromServer: 0, estimated: 0 },
    concurrency: { requested: requestedConcurrency, inFlightIntegralMs: 0, peak: 0 },
    context: { probes: 0, recalled: 0, crossSwitchProbes: 0, crossSwitchRecalled: 0, byDistance: {} },
    switches: 0,
    arrivals: { scheduled: 0, late: 0, dropped: 0 },
    generator: { busiestUtilization: 0 },
    windows: {},
    memory: { harnessRss: {}, threadHeap: {}, targetSource: 'none', target: {}, targetPerCycle: {}, heapSnapshots: [] },
  };
}
