/**
 * The raw, mergeable result of a shard (or of one thread's slice of it). Everything in it adds up:
 * histograms are added, counters summed, window series merged window by window, memory series kept per source.
 * Merging is associative, so thread -> shard -> phase merging gives the same phase result as
 * recording everything in one place.
 */
import { InternalError } from './errors';
import { createHistogram, encodeHistogram, mergeEncodedToEncoded } from './histogram';
import type { MemorySample, SwitchRequest } from './phase-metrics';
import type { TargetMemoryUnit } from './units';
import { mergeSeries, type WindowSeries } from './window-series';

/**
 * e2e: send to last byte (service time). response: scheduled start to last byte (open loop only).
 * lag: scheduled start to when the generator got to it (open loop). load: model load time the
 * server reported (Ollama `load_duration`), for requests that paid one. gc: garbage-collection
 * pauses in the generator threads. tokenRateMilli: output tokens per second of each request, in
 * thousandths (histograms hold integers). loopLag: event-loop delay of generator threads.
 */
export const HISTOGRAM_NAMES = [
  'e2eUs',
  'responseUs',
  'lagUs',
  'ttftUs',
  'tpotUs',
  'itlUs',
  'switchUs',
  'warmUs',
  'loadUs',
  'loopLagUs',
  'gcUs',
  'tokenRateMilli',
] as const;
export type HistogramName = (typeof HISTOGRAM_NAMES)[number];

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
  /**
   * The run's clock (Redis `TIME`) minus the worker's clock, in ms, measured at the start barrier;
   * the shard's epoch times were moved by it. 0 for a local run; absent in results of older versions.
   */
  clockOffsetMs?: number;
}

export interface ShardResult {
  shards: ShardInfo[];
  /** Epoch ms of the earliest measured request start and latest end; null when none ran. */
  firstStartMs: number | null;
  lastEndMs: number | null;
  /** Encoded HdrHistograms; times in microseconds. */
  histograms: Record<HistogramName, string>;
  /** `good`: successful requests that met every per-request SLO of the phase. */
  requests: {
    ok: number;
    good: number;
    errors: number;
    byClass: Record<string, number>;
    /** Error class -> the first failure's message or body (a few hundred characters), so people see why. */
    samples: Record<string, string>;
  };
  /** Why the phase stopped before its planned end (an abort condition, its time limit, an interrupt); null when it did not. */
  stopped: StopReason | null;
  tokens: {
    output: number;
    input: number;
    fromServer: number;
    estimated: number;
    /** Requests whose answer said how much of the prompt came from the server's cache: their input tokens, and the cached ones. */
    cache: { requests: number; input: number; cached: number };
  };
  concurrency: { inFlightIntegralMs: number; peak: number };
  context: {
    probes: number;
    recalled: number;
    crossSwitchProbes: number;
    crossSwitchRecalled: number;
    /** Turn distance -> probes and recalls (same-model probes). */
    byDistance: Record<string, { probes: number; recalled: number }>;
  };
  switches: number;
  /** HTTP targets: connection churn over the whole phase (warm-up included); null for a module target. */
  connections: ConnectionCounts | null;
  /** Open loop: arrivals scheduled in the measured part, started late (> 10 ms), never started. */
  arrivals: { scheduled: number; late: number; dropped: number };
  generator: {
    /** Event-loop utilization (0..1) of the busiest generator thread; null when no thread ran long enough to tell. */
    busiestUtilization: number | null;
    /** CPU of each worker process and of its machine over its shard: who held the CPU. */
    machines: MachineLoad[];
  };
  /** The measured part window by window (see window-series.ts): merged by adding, as histograms are. */
  series: WindowSeries;
  /** Model-switch phases: every request in order (one sequential conversation, bounded). */
  switchSequence: SwitchRequest[];
  /** A bounded, uniform sample of the measured requests (only when asked for: `run --requests`). */
  requestLog: RequestLogEntry[];
  memory: {
    /** Series name (worker process) -> RSS samples. */
    harnessRss: Record<string, MemorySample[]>;
    /** Series name (worker thread) -> heapUsed samples. */
    threadHeap: Record<string, MemorySample[]>;
    targetSource: string;
    /** What the target memory readings count (`target.memory.unit`). */
    targetUnit: TargetMemoryUnit;
    /** Series name (sampler) -> target memory samples. */
    target: Record<string, MemorySample[]>;
    /** Series name -> target memory at the end of each model-switch cycle (same model loaded). */
    targetPerCycle: Record<string, MemorySample[]>;
    /** Heap snapshots written for a module target whose heap grew past the leak threshold. */
    heapSnapshots: string[];
    /** Target memory readings that failed (timeout, too large, refused), and the first failure's reason. */
    targetReadFailures: number;
    targetReadError: string | null;
  };
}

/** One worker process's CPU time against its machine's over a shard; machine figures null off Linux. */
export interface MachineLoad {
  worker: string;
  host: string;
  cores: number;
  threads: number;
  wallMs: number;
  /** CPU time of the worker process, all threads. */
  processCpuMs: number;
  /** CPU time of every process on the machine (this one included), and time stolen by the hypervisor. */
  machineBusyMs: number | null;
  machineStealMs: number | null;
}

export interface ConnectionCounts {
  /** Connections the target opened. */
  opened: number;
  /** Requests sent again on a fresh connection after the server closed a reused one before any response byte. */
  retried: number;
}

/** One measured request, as `run --requests` writes it (one JSON line each). */
export interface RequestLogEntry {
  /** Epoch ms the request was sent. */
  startMs: number;
  /** Milliseconds to the first content chunk (null without streaming or on failure), to the last byte. */
  ttftMs: number | null;
  e2eMs: number;
  outputTokens: number | null;
  inputTokens: number | null;
  /** Null when it succeeded. */
  errorClass: string | null;
  model: string;
  /** Unique in the run: shard, thread and the thread's conversation. */
  conversation: string;
  shard: number;
  /** How many measured requests this one stands for (1 when every request was kept). */
  weight: number;
}

export interface StopReason {
  /** The condition that held, in words: "20 consecutive connection failures (connection_refused: ...)". */
  reason: string;
  /** Epoch ms when it held. */
  atMs: number;
}

function addCounts<T extends object>(into: T, from: T): T {
  const sum = { ...into } as Record<string, number>;
  for (const [key, value] of Object.entries(from) as Array<[string, number]>) sum[key] = (sum[key] ?? 0) + value;
  return sum as T;
}

function addTokens(a: ShardResult['tokens'], b: ShardResult['tokens']): ShardResult['tokens'] {
  const { cache: aCache, ...aCounts } = a;
  const { cache: bCache, ...bCounts } = b;
  return { ...addCounts(aCounts, bCounts), cache: addCounts(aCache, bCache) };
}

function addKeyed<T>(into: Record<string, T>, from: Record<string, T>, add: (a: T, b: T) => T): Record<string, T> {
  const sum = { ...into };
  for (const [key, value] of Object.entries(from)) sum[key] = key in sum ? add(sum[key] as T, value) : value;
  return sum;
}

const concat = (a: MemorySample[], b: MemorySample[]) => [...a, ...b].sort((x, y) => x.tMs - y.tMs);

function earliest(a: StopReason | null, b: StopReason | null): StopReason | null {
  return a === null ? b : b === null ? a : a.atMs <= b.atMs ? a : b;
}

/** The earliest stop among parts that ran side by side (threads, shards): the one a phase's report names. */
export function firstStop(parts: ReadonlyArray<{ stopped?: StopReason | null }>): StopReason | null {
  return parts.reduce<StopReason | null>((first, part) => earliest(first, part.stopped ?? null), null);
}

function minOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function maxOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

/** Merges results of slices or shards that ran at the same time against the same target. */
export function mergeShardResults(results: readonly ShardResult[]): ShardResult {
  const [first, ...rest] = results;
  if (!first) throw new InternalError('mergeShardResults needs at least one result');
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
        // The first sample of each class wins: earlier shards and threads first.
        samples: { ...next.requests.samples, ...sum.requests.samples },
      },
      stopped: earliest(sum.stopped, next.stopped),
      tokens: addTokens(sum.tokens, next.tokens),
      concurrency: {
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
      connections:
        sum.connections && next.connections ? addCounts(sum.connections, next.connections) : (sum.connections ?? next.connections),
      arrivals: addCounts(sum.arrivals, next.arrivals),
      generator: {
        busiestUtilization: maxOrNull(sum.generator.busiestUtilization, next.generator.busiestUtilization),
        machines: [...sum.generator.machines, ...next.generator.machines],
      },
      series: mergeSeries(sum.series, next.series),
      switchSequence: [...sum.switchSequence, ...next.switchSequence],
      requestLog: [...sum.requestLog, ...next.requestLog],
      memory: {
        harnessRss: addKeyed(sum.memory.harnessRss, next.memory.harnessRss, concat),
        threadHeap: addKeyed(sum.memory.threadHeap, next.memory.threadHeap, concat),
        targetSource: sum.memory.targetSource === 'none' ? next.memory.targetSource : sum.memory.targetSource,
        targetUnit: sum.memory.targetSource === 'none' ? next.memory.targetUnit : sum.memory.targetUnit,
        target: addKeyed(sum.memory.target, next.memory.target, concat),
        targetPerCycle: addKeyed(sum.memory.targetPerCycle, next.memory.targetPerCycle, concat),
        heapSnapshots: [...sum.memory.heapSnapshots, ...next.memory.heapSnapshots],
        targetReadFailures: sum.memory.targetReadFailures + next.memory.targetReadFailures,
        targetReadError: sum.memory.targetReadError ?? next.memory.targetReadError,
      },
    }),
    first,
  );
}

/** A result with nothing in it: the starting point of a recorder, or a phase where no shard finished. */
export function emptyShardResult(): ShardResult {
  const empty = encodeHistogram(createHistogram());
  return {
    shards: [],
    firstStartMs: null,
    lastEndMs: null,
    histograms: Object.fromEntries(HISTOGRAM_NAMES.map((name) => [name, empty])) as Record<HistogramName, string>,
    requests: { ok: 0, good: 0, errors: 0, byClass: {}, samples: {} },
    stopped: null,
    tokens: { output: 0, input: 0, fromServer: 0, estimated: 0, cache: { requests: 0, input: 0, cached: 0 } },
    concurrency: { inFlightIntegralMs: 0, peak: 0 },
    context: { probes: 0, recalled: 0, crossSwitchProbes: 0, crossSwitchRecalled: 0, byDistance: {} },
    switches: 0,
    connections: null,
    arrivals: { scheduled: 0, late: 0, dropped: 0 },
    generator: { busiestUtilization: null, machines: [] },
    series: { windowMs: 0, originEpochMs: 0, windows: [] },
    switchSequence: [],
    requestLog: [],
    memory: {
      harnessRss: {},
      threadHeap: {},
      targetSource: 'none',
      targetUnit: 'bytes',
      target: {},
      targetPerCycle: {},
      heapSnapshots: [],
      targetReadFailures: 0,
      targetReadError: null,
    },
  };
}
