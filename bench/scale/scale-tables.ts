/**
 * The Markdown tables `bench:scale` prints: one per section, from the cases' results (the median
 * repetition of each case when there are several).
 */
import { fixed, markdownTable, whole, type Row } from './markdown-table';
import type { ScaleCaseResult } from './run-scale-case';
import { STREAM_PACE } from './scale-cases';
import type { Section } from './scale-options';

/** The scaling goal of issue 12: N workers give at least this times N what one gives. */
const SCALING_GOAL = 0.9;

/** A case's result with its section and every repetition's requests/s. */
export interface SectionResult {
  section: Section;
  result: ScaleCaseResult;
  /** Requests/s of each repetition, in run order. */
  runs: Array<number | null>;
}

const KIB = 1024;
const pct = (value: number | null | undefined): string => (value === null || value === undefined || !Number.isFinite(value) ? '-' : `${(value * 100).toFixed(0)} %`);

function workersUse(result: ScaleCaseResult): string {
  const cores = result.workerFigures.map((worker) => worker.cores);
  return `${fixed(Math.min(...cores), 3)}-${fixed(Math.max(...cores), 3)} of ${result.shareOfOneCore}`;
}

function throttled(result: ScaleCaseResult): string {
  return result.workerFigures.map((worker) => pct(worker.throttledRatio)).join(', ');
}

function machine(result: ScaleCaseResult): string {
  return `${fixed(result.machineBusyCores, 2)} (others ${fixed(result.otherCores, 2)})`;
}

function scaling(value: number | null, base: number | null, n: number): { factor: string; goal: string } {
  if (value === null || base === null || base <= 0) return { factor: '-', goal: '-' };
  const factor = value / base;
  return { factor: `${factor.toFixed(2)}x`, goal: n === 1 ? '-' : factor >= SCALING_GOAL * n ? `met (>= ${(SCALING_GOAL * n).toFixed(1)})` : `NOT met (< ${(SCALING_GOAL * n).toFixed(1)})` };
}

function runsOf(entry: SectionResult): string {
  return entry.runs.length > 1 ? entry.runs.map((run) => whole(run)).join(', ') : '';
}

function throughputTable(entries: SectionResult[]): string {
  const base = entries.find((entry) => entry.result.workers === 1)?.result.requestsPerSecond ?? null;
  const rows: Row[] = entries.map((entry) => {
    const r = entry.result;
    const { factor, goal } = scaling(r.requestsPerSecond, base, r.workers);
    return {
      N: r.workers,
      'requests/s': whole(r.requestsPerSecond),
      ...(entry.runs.length > 1 ? { runs: runsOf(entry) } : {}),
      scaling: factor,
      'goal 0.9 x N': goal,
      'CPU per request': `${fixed(r.cpuPerRequestUs, 1)} us`,
      'worker cores used': workersUse(r),
      'throttled periods': throttled(r),
      'e2e p50 / p99 ms': `${fixed(r.report.latencyMs.e2eP50, 2)} / ${fixed(r.report.latencyMs.e2eP99, 1)}`,
      'target cores': fixed(r.target.cores, 2),
      'machine busy cores': machine(r),
    };
  });
  const first = entries[0]?.result;
  return markdownTable(
    'Throughput: short non-streamed answers from the lean target',
    rows,
    first
      ? `${first.report.requestedConcurrency / first.workers} requests in flight per worker, warm-up ${first.warmupMs / 1000} s, measured ${fixed((first.windowMs ?? 0) / 1000, 0)} s; CFS period ${first.periodMs} ms. CPU per request: cpuacct of the workers' groups over the measured window / measured requests.`
      : undefined,
  );
}

const HALF = /-half$/;

/**
 * What one held stream adds to a worker's RSS: between a case and its half case (half the streams,
 * fresh workers), worker by worker, (RSS - RSS) / (streams - streams), averaged; null without both.
 */
function rssPerAddedStream(full: ScaleCaseResult, half: ScaleCaseResult | undefined): number | null {
  if (!half) return null;
  const slopes = full.workerFigures.flatMap((worker, index) => {
    const other = half.workerFigures[index];
    if (!other || worker.streams === null || other.streams === null || worker.rssMedianBytes === null || other.rssMedianBytes === null) return [];
    const added = worker.streams - other.streams;
    return added > 0 ? [(worker.rssMedianBytes - other.rssMedianBytes) / added] : [];
  });
  return slopes.length > 0 ? slopes.reduce((sum, value) => sum + value, 0) / slopes.length : null;
}

function streamsTable(all: SectionResult[]): string {
  const entries = all.filter((entry) => !HALF.test(entry.result.label));
  const halves = new Map(all.filter((entry) => HALF.test(entry.result.label)).map((entry) => [entry.result.label.replace(HALF, ''), entry.result]));
  const base = entries.find((entry) => entry.result.workers === 1)?.result ?? null;
  const rows: Row[] = entries.map((entry) => {
    const r = entry.result;
    const added = rssPerAddedStream(r, halves.get(r.label));
    const held = scaling(r.streamsHeld, base?.streamsHeld ?? null, r.workers);
    const rate = scaling(r.requestsPerSecond, base?.requestsPerSecond ?? null, r.workers);
    const ideal = r.streamsHeld !== null ? (r.streamsHeld * STREAM_PACE.tokens) / (STREAM_PACE.e2eMs / 1000) : null;
    return {
      N: r.workers,
      'streams held': whole(r.streamsHeld),
      'scaling (held)': held.factor,
      'goal 0.9 x N': held.goal,
      'streams ended/s': whole(r.requestsPerSecond),
      'scaling (ended/s)': rate.factor,
      'tokens/s (of pace)': `${whole(r.outputTokensPerSecond)} (${pct(ideal && r.outputTokensPerSecond !== null ? r.outputTokensPerSecond / ideal : null)})`,
      'TTFT p50 / p99 ms': `${whole(r.report.latencyMs.ttftP50)} / ${whole(r.report.latencyMs.ttftP99)}`,
      'e2e p50 / p99 ms': `${whole(r.report.latencyMs.e2eP50)} / ${whole(r.report.latencyMs.e2eP99)}`,
      'CPU per stream': `${whole(r.cpuPerRequestUs)} us`,
      'RSS per stream (bound)': r.rssPerStreamBytes === null ? '-' : `<= ${fixed(r.rssPerStreamBytes / KIB, 1)} KiB`,
      'RSS per added stream': added === null ? '-' : `${fixed(added / KIB, 1)} KiB`,
      'worker cores used': workersUse(r),
      'target cores': fixed(r.target.cores, 2),
      'machine busy cores': machine(r),
    };
  });
  const first = entries[0]?.result;
  return markdownTable(
    "Held streams: the mock's slow model (TTFT 2 s, then 20 tokens/s, 20 tokens: 2.95 s a stream)",
    rows,
    first
      ? `${first.report.requestedConcurrency / first.workers} streams per worker, ramped over ${first.warmupMs / 1000} s; figures over the steady part of the hold (${fixed((first.windowMs ?? 0) / 1000, 1)} s, where every stream in flight is measured, from the request log). Pace: ${STREAM_PACE.ttftMs} ms TTFT, ${STREAM_PACE.e2eMs} ms e2e. CPU per stream: the workers' cpuacct / streams ended; RSS per stream: (RSS held - RSS idle) / streams, fixed costs included (an upper bound); per added stream: (RSS held - RSS of the same case with half the streams, on fresh workers) / the streams between them, worker by worker.`
      : undefined,
  );
}

function exactTable(entries: SectionResult[]): string {
  const rows: Row[] = [];
  for (const entry of entries) {
    const r = entry.result;
    const generated = r.target.generations;
    for (const check of r.percentileChecks) {
      rows.push({
        N: r.workers,
        case: r.label,
        metric: check.metric,
        // Only a case that measures every request it sends can be counted at the target.
        'target answered': r.workload === 'exact' ? whole(generated) : '-',
        'report counted': whole(r.report.ok + r.report.errors),
        'log lines': whole(r.log.lines),
        'shards in log': check.shards,
        'merged = one place': check.differences.length === 0 ? 'identical' : check.differences.join('; '),
        'p50 / p99 ms': `${fixed(check.mergedSummary?.p50, 3)} / ${fixed(check.mergedSummary?.p99, 3)}`,
        'HDR vs exact rank': check.worstResolutionError === null ? '-' : `${(check.worstResolutionError * 100).toFixed(3)} %`,
      });
    }
  }
  return markdownTable(
    'Exact merged percentiles: across N hosts vs the same requests recorded in one place',
    rows,
    "Every request logged (weight 1). One place: the log's raw times recorded into one HdrHistogram (same settings), read after one encode/decode like every report histogram. Merged: the report's, added thread -> shard -> phase across hosts. Every count, min, p10, p50, p90, p95, p99, max (and the mean, to rounding) must be equal. 'HDR vs exact rank': the worst gap, p50 to p99, between the histogram and nearest-rank percentiles of the raw values (its 3-digit resolution). The exact cases also count: the target's answers = the report's requests = the log's lines.",
  );
}

function splitTable(entries: SectionResult[]): string {
  const pairs = new Map<string, number | null>();
  const rows: Row[] = entries.map((entry) => {
    const r = entry.result;
    // Each 4-worker row is read against the 2-worker row with the same warm-up design before it.
    if (r.workers === 2) pairs.set('last', r.requestsPerSecond);
    const against = r.workers === 2 || r.workload !== 'throughput' ? null : (pairs.get('last') ?? null);
    const boot = r.workerFigures.map((worker) => worker.bootCpuS);
    return {
      case: r.label,
      'requests/s': whole(r.requestsPerSecond),
      ...(entry.runs.length > 1 ? { runs: runsOf(entry) } : {}),
      'vs 2 workers': against && r.requestsPerSecond !== null ? `${(r.requestsPerSecond / against).toFixed(2)}x` : '-',
      'CPU per request': `${fixed(r.cpuPerRequestUs, 1)} us`,
      '1st s / rest': r.firstSecondCostRatio === null ? '-' : `${r.firstSecondCostRatio.toFixed(2)}x`,
      'worker cores used': workersUse(r),
      'throttled periods': throttled(r),
      'throttled s per worker': fixed(r.workerFigures.reduce((sum, worker) => sum + worker.throttledS, 0) / r.workers, 1),
      'start-up CPU s': `${fixed(Math.min(...boot), 2)}-${fixed(Math.max(...boot), 2)}`,
      'idle cores': fixed(Math.max(...r.workerFigures.map((worker) => worker.idleCores)), 4),
      'e2e p99 ms': fixed(r.report.latencyMs.e2eP99, 1),
      'machine busy cores': machine(r),
    };
  });
  return markdownTable(
    'The same CPU split two ways: 2 workers at q vs 4 at q/2 (throughput workload, same requests in flight per worker)',
    rows,
    "'vs 2 workers': requests/s against the 2-worker row above it (1.00x: the split costs nothing). '1st s / rest': CPU per request in the measured part's first second over the median of its other seconds (1.00: no harness warm-up left in it). 'start-up CPU s': cpuacct of each worker from exec to ready. 'idle cores': the busiest worker while idle before the run. The last row holds 2 streams per worker: its 'worker cores used' is what a running shard costs per second whatever its load.",
  );
}

/**
 * Every section's table, in the order the sections ran, then one table of the merged-vs-one-place
 * checks of every case whose request log holds every request (the exact cases, and held streams).
 */
export function scaleTables(entries: readonly SectionResult[]): string {
  const bySection = new Map<Section, SectionResult[]>();
  for (const entry of entries) bySection.set(entry.section, [...(bySection.get(entry.section) ?? []), entry]);
  const render: Partial<Record<Section, (list: SectionResult[]) => string>> = {
    throughput: throughputTable,
    streams: streamsTable,
    split: splitTable,
  };
  const tables = [...bySection].flatMap(([section, list]) => render[section]?.(list) ?? []);
  const checked = entries.filter((entry) => entry.result.percentileChecks.length > 0);
  if (checked.length > 0) tables.push(exactTable(checked));
  return tables.join('\n');
}
