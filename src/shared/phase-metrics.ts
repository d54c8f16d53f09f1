/**
 * The merged metrics of one phase, as reports show them and criteria read them, and the registry
 * of metric paths that a plan's criteria may name. Times are milliseconds, memory is bytes, ratios
 * are fractions of one.
 */
import type { LatencyDistributions, PhaseTimeline } from './phase-timeline';
import type { TargetMemoryUnit, UnitKind } from './units';

/** Percentiles of a distribution, read from a merged HdrHistogram (never averaged across shards). */
export interface Summary {
  count: number;
  min: number;
  /** Low percentile: what matters for rates, where higher is better. */
  p10: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export interface MemorySample {
  /** Milliseconds since the phase started. */
  tMs: number;
  bytes: number;
}

/**
 * A leak verdict from the trend of memory over the phase (least-squares slope), not from two
 * points: "leak" when the trend is clear (R² >= 0.6) and adds up to more than the plan's
 * `memory.leakThreshold` over the measured time.
 */
export interface LeakVerdict {
  slopeBytesPerSecond: number | null;
  /** The trend line's value at the phase start (tMs 0), to draw it beside the samples. */
  interceptBytes: number | null;
  /** `not-bytes`: a trend of a ratio or a count, which the leak threshold (bytes) cannot judge. */
  verdict: 'leak' | 'stable' | 'insufficient-data' | 'not-bytes';
}

/** One request of a model-switch phase, in order: what a switch cost against the warm requests around it. */
export interface SwitchRequest {
  index: number;
  model: string;
  /** `plain`: the phase's first model, or a request that never reached the server (the switch stays pending). */
  role: 'plain' | 'switch' | 'warm';
  /** Null when the request failed. */
  e2eMs: number | null;
  /** Load time the server reported for it, when it did. */
  loadMs: number | null;
}

export interface PhaseMetrics {
  /** Wall time from the first measured request's start to the last one's end. */
  durationMs: number;
  /** Why the phase stopped before its planned end, when it did: it then fails. */
  stopped: { reason: string; atMs: number } | null;
  requests: {
    total: number;
    ok: number;
    errors: number;
    errorRate: number | null;
    /** Successful requests meeting every per-request SLO of the phase (all successful ones without SLOs). */
    good: number;
    goodRatio: number | null;
    /** Failed requests by class: timeout, connection_refused, http_500, malformed_response, ... */
    byClass: Record<string, number>;
    /** Class -> the first failure's message or body, cut short. */
    samples: Record<string, string>;
  };
  /** goodput: good requests per second. */
  throughput: { requestsPerSecond: number | null; goodput: number | null; outputTokensPerSecond: number | null };
  latency: {
    /** Request sent to last byte: the service time. */
    e2e: Summary | null;
    /** Open loop: scheduled start to last byte, so queueing before the send counts (no coordinated omission). */
    response: Summary | null;
    /** Request start to the first chunk that carries content (not an empty role chunk). */
    ttft: Summary | null;
    /** (e2e - ttft) / (output tokens - 1), per request. */
    tpot: Summary | null;
    /** Gaps between consecutive content chunks. */
    itl: Summary | null;
  };
  tokens: {
    output: number;
    input: number;
    /** Output tokens / e2e seconds of each request (a distribution, unlike throughput's overall rate). */
    perRequestRate: Summary | null;
    /** "server" when every count came from the server's `usage`, "estimated" when none did. */
    source: 'server' | 'estimated' | 'mixed' | 'none';
    /**
     * Input tokens the server answered from its prompt cache (`cached_tokens`, llama.cpp `cache_n`),
     * summed over the requests whose answers said; null when none did.
     */
    cachedInput: number | null;
    /** cachedInput / the input tokens of the requests that said it; null when none did. */
    cachedInputRatio: number | null;
  };
  /**
   * HTTP targets: connections opened over the phase (warm-up included), and requests sent again on
   * a fresh connection because the server closed a reused one before answering (not errors: the
   * server never saw the first send). Null for a module target.
   */
  connections: { opened: number; retried: number } | null;
  concurrency: {
    requested: number;
    /** Time-weighted mean of requests in flight over the measured window, all shards together. */
    mean: number | null;
    peak: number;
  };
  context: {
    probes: number;
    recalled: number;
    /** recalled / probes, for facts planted and probed on the same model. */
    preservation: number | null;
    crossSwitchProbes: number;
    crossSwitchRecalled: number;
    /** recalled / probes, for facts planted before a model switch and probed after it. */
    accuracy: number | null;
    byDistance: Array<{ distance: number; probes: number; recalled: number }>;
  };
  switch: {
    /** Switches the server saw: the first request to the next model that reached it, failed or not. */
    count: number;
    /** e2e of the first request after a switch (successful ones). */
    time: Summary | null;
    /** e2e of the other requests of model-switch segments. */
    warm: Summary | null;
    /** switch.time.p50 - warm.p50. */
    penaltyP50: number | null;
    /** Model load time reported by the server (Ollama `load_duration`), for requests that paid one. */
    loadTime: Summary | null;
    /** Every request of the phase in order (model-switch phases: one sequential conversation, bounded). */
    sequence: SwitchRequest[];
  };
  memory: {
    harness: { rssPeak: number | null; rssGrowth: number | null; heapPeak: number | null; samples: MemorySample[] } & LeakVerdict;
    target: {
      source: string;
      /** What the readings count: bytes unless a Prometheus gauge is a ratio or a count. */
      unit: TargetMemoryUnit;
      peak: number | null;
      growth: number | null;
      samples: MemorySample[];
      /** Readings that failed (timeout, too large, refused), and the first one's reason. */
      failedReadings: number;
      readError: string | null;
      /** Why the phase fails for its memory source: it was set but never gave a reading. */
      unreadable: string | null;
    } & LeakVerdict;
    /** Garbage-collection pauses in the generator threads (for a module target: in the system under test). */
    gcPauses: Summary | null;
    /** Heap snapshot pairs (start, end) of threads whose heap grew past the leak threshold. */
    heapSnapshots: string[];
  };
  stability: { value: number | null; windows: number; stableWindows: number; windowMs: number };
  /** Window by window over the measured part: what charts over time draw. */
  timeline: PhaseTimeline;
  /** The whole phase's latency distributions. */
  distributions: LatencyDistributions;
  load: {
    mode: 'closed' | 'open';
    /** Open loop: arrivals scheduled in the measured part, started more than 10 ms late, never started. */
    scheduled: number;
    late: number;
    dropped: number;
    /** Open loop: scheduled start to when the generator got to it (its own lateness, not waits for a free slot). */
    schedulingLag: Summary | null;
  };
  /** Whether the load generator kept up: if not, latencies measure the harness, not the target. */
  generator: {
    eventLoopLag: Summary | null;
    busiestUtilization: number | null;
    trustworthy: boolean;
    /** When not trustworthy, why: grym-perf itself was the bottleneck, or other processes (or the hypervisor) held the CPU. */
    cause: 'harness' | 'machine' | null;
    /** The most contended machine: its cores, and how many of them grym-perf, other processes and steal used on average. */
    machine: { host: string; cores: number; harnessCores: number; otherCores: number; stealCores: number } | null;
    warnings: string[];
  };
}

/**
 * What a phase and its target must have for a metric to be measured at all: a criterion on a metric
 * whose requirement does not hold could never pass, so the plan is rejected before anything is sent.
 */
export type MetricRequirement =
  /** Scenario "model-switch": switches happen only there. */
  | 'model-switch'
  /** Scenario "requests" with `load.mode: open`: scheduled arrivals. */
  | 'open-loop'
  /** A streaming HTTP target: chunk times give time to first token and the gaps between tokens. */
  | 'streaming'
  /** A target memory source: a mock's /api/ps, a module's thread heaps, or `target.memory`. */
  | 'target-memory'
  /** Context probes: `context.facts` > 0. */
  | 'context-probes'
  /** Model load times, which only Ollama's native API reports. */
  | 'load-times';

export interface MetricDefinition {
  kind: UnitKind;
  description: string;
  read(metrics: PhaseMetrics): number | null;
  /** What must hold for the metric to be measured (nothing: always measured). */
  requires?: readonly MetricRequirement[];
  /** Its unit is the target memory source's (`target.memory.unit`); `kind` is the default, bytes. */
  inTargetMemoryUnit?: true;
}

const PERCENTILES = ['p50', 'p90', 'p95', 'p99', 'max', 'mean'] as const;

function summaryMetrics(
  prefix: string,
  description: string,
  pick: (m: PhaseMetrics) => Summary | null,
  requires?: readonly MetricRequirement[],
) {
  const entries: Record<string, MetricDefinition> = {};
  for (const stat of PERCENTILES) {
    entries[`${prefix}.${stat}`] = {
      kind: 'duration',
      description: `${description}, ${stat}`,
      read: (m) => pick(m)?.[stat] ?? null,
      ...(requires ? { requires } : {}),
    };
  }
  return entries;
}

/** Every metric a criterion may name, with its unit kind and where it is read from. */
export const METRICS: Readonly<Record<string, MetricDefinition>> = Object.freeze({
  ...summaryMetrics('latency.e2e', 'End-to-end latency', (m) => m.latency.e2e),
  ...summaryMetrics('latency.response', 'Response time from the scheduled start (open loop)', (m) => m.latency.response, ['open-loop']),
  ...summaryMetrics('latency.ttft', 'Time to first token', (m) => m.latency.ttft, ['streaming']),
  ...summaryMetrics('latency.tpot', 'Time per output token', (m) => m.latency.tpot, ['streaming']),
  ...summaryMetrics('latency.itl', 'Inter-token latency', (m) => m.latency.itl, ['streaming']),
  ...summaryMetrics('switch.time', 'Latency of the first request after a model switch', (m) => m.switch.time, ['model-switch']),
  ...summaryMetrics('switch.loadTime', 'Model load time reported by the server', (m) => m.switch.loadTime, ['model-switch', 'load-times']),
  'switch.penalty': {
    kind: 'duration',
    description: 'Median switch time minus median warm latency',
    read: (m) => m.switch.penaltyP50,
    requires: ['model-switch'],
  },
  'requests.total': { kind: 'count', description: 'Measured requests', read: (m) => m.requests.total },
  'requests.errors': { kind: 'count', description: 'Failed requests', read: (m) => m.requests.errors },
  'requests.errorRate': { kind: 'ratio', description: 'Failed / measured requests', read: (m) => m.requests.errorRate },
  'requests.goodRatio': {
    kind: 'ratio',
    description: 'Requests meeting every per-request SLO / measured requests',
    read: (m) => m.requests.goodRatio,
  },
  'throughput.goodput': {
    kind: 'rate',
    description: 'Requests meeting every per-request SLO per second',
    read: (m) => m.throughput.goodput,
  },
  'throughput.rps': { kind: 'rate', description: 'Completed requests per second', read: (m) => m.throughput.requestsPerSecond },
  'tokens.perRequestRate.p50': {
    kind: 'rate',
    description: 'Median output tokens per second of a request',
    read: (m) => m.tokens.perRequestRate?.p50 ?? null,
  },
  'tokens.perRequestRate.p10': {
    kind: 'rate',
    description: 'Output tokens per second that 90 % of requests beat',
    read: (m) => m.tokens.perRequestRate?.p10 ?? null,
  },
  'throughput.outputTokensPerSecond': {
    kind: 'rate',
    description: 'Output tokens per second, all requests',
    read: (m) => m.throughput.outputTokensPerSecond,
  },
  'concurrency.mean': { kind: 'count', description: 'Time-weighted mean requests in flight', read: (m) => m.concurrency.mean },
  'concurrency.peak': { kind: 'count', description: 'Most requests in flight at once', read: (m) => m.concurrency.peak },
  'context.preservation': {
    kind: 'ratio',
    description: 'Facts recalled / probed on the same model',
    read: (m) => m.context.preservation,
    requires: ['context-probes'],
  },
  'context.accuracy': {
    kind: 'ratio',
    description: 'Facts recalled / probed across a model switch',
    read: (m) => m.context.accuracy,
    requires: ['context-probes', 'model-switch'],
  },
  'memory.target.peak': {
    kind: 'bytes',
    description: 'Peak memory of the target',
    read: (m) => m.memory.target.peak,
    requires: ['target-memory'],
    inTargetMemoryUnit: true,
  },
  'memory.target.growth': {
    kind: 'bytes',
    description: 'Memory growth of the target over the phase',
    read: (m) => m.memory.target.growth,
    requires: ['target-memory'],
    inTargetMemoryUnit: true,
  },
  ...summaryMetrics('memory.gcPauses', 'Garbage-collection pauses in the worker threads', (m) => m.memory.gcPauses),
  'memory.harness.peak': { kind: 'bytes', description: 'Peak RSS of the harness', read: (m) => m.memory.harness.rssPeak },
  'memory.harness.growth': {
    kind: 'bytes',
    description: 'RSS growth of the harness over the phase',
    read: (m) => m.memory.harness.rssGrowth,
  },
  stability: { kind: 'ratio', description: 'Stable windows / windows', read: (m) => m.stability.value },
  ...summaryMetrics('load.schedulingLag', 'Scheduled start to when the generator got to it (open loop)', (m) => m.load.schedulingLag, [
    'open-loop',
  ]),
  'load.dropped': {
    kind: 'count',
    description: 'Open-loop arrivals never started',
    read: (m) => (m.load.mode === 'open' ? m.load.dropped : null),
    requires: ['open-loop'],
  },
  'load.late': {
    kind: 'count',
    description: 'Open-loop arrivals started more than 10 ms late',
    read: (m) => (m.load.mode === 'open' ? m.load.late : null),
    requires: ['open-loop'],
  },
  ...summaryMetrics('generator.eventLoopLag', 'Event-loop delay of the generator threads', (m) => m.generator.eventLoopLag),
});
