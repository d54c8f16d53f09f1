/**
 * The cases `bench:scale` runs, section by section: what each submits, to which target, with how
 * many workers under which quota, and for how long.
 */
import { availableParallelism } from 'node:os';
import type { ScaleCaseSpec } from './run-scale-case';
import type { ScaleCluster } from './scale-cluster';
import type { ScaleOptions, Section } from './scale-options';
import { exactnessPlan, STREAM_TOKENS, streamsPlan, throughputPlan } from './scale-plans';

/**
 * CPU seconds a fresh worker process spends before its request path runs at steady speed: V8
 * compiles it on the worker's own threads, inside its quota, during the first requests of its
 * first phase. Measured from a phase without warm-up, second by second: about 1 CPU-s at 12.5 %
 * and at 25 % of a core (the first seconds cost 300-1,000 us per request against 40-50 us
 * steady). The start-up warm-up of `grym-perf worker` runs for 200 ms of wall time, which is
 * 25 ms of CPU at 12.5 %, and leaves undici's code to warm in the phase: it does not cover this.
 * A warm-up of WARM_CPU_S / quota seconds does, twice over, whatever the quota.
 */
const WARM_CPU_S = 2;
/** The earlier design's warm-up: the same wall time for every quota. */
const FIXED_WARMUP_S = 3;
/** The mock's slow model: 2 s to the first token, then 19 more at 20 a second. */
const STREAM_MS = 2000 + ((STREAM_TOKENS - 1) * 1000) / 20;

/** One case and the section it belongs to. */
export interface PlannedCase {
  section: Section;
  spec: ScaleCaseSpec;
}

/** Warm-up long enough for a fresh worker at `share` of a core, in whole seconds. */
function warmupForShare(share: number): number {
  return Math.max(2, Math.ceil(WARM_CPU_S / share));
}

/** Every case of the selected sections, in the order they run. */
export function scaleCases(options: ScaleOptions, cluster: ScaleCluster): PlannedCase[] {
  const scale = options.quick ? 0.5 : 1;
  const measuredS = Math.round(10 * scale);
  const periodUs = options['period-ms'] * 1000;
  const cases: PlannedCase[] = [];
  let index = 0;
  const workers = (count: number, share = options.share, casePeriodUs = periodUs, threads: number | null = 1) => ({
    count,
    share,
    periodUs: casePeriodUs,
    threads,
    prefix: `scale${index++}`,
  });
  const leanStats = cluster.leanBaseUrl.replace(/\/v1$/, '/stats');
  const mockStats = cluster.mockBaseUrl.replace(/\/v1$/, '/stats');
  const throughput = (label: string, settings: ReturnType<typeof workers>, warmupS: number): ScaleCaseSpec => ({
    label,
    workload: 'throughput',
    workers: settings,
    plan: throughputPlan({ baseUrl: cluster.leanBaseUrl, workers: settings.count, concurrencyPerWorker: options.concurrency, warmupS, durationS: measuredS }),
    measuredMs: measuredS * 1000,
    warmupMs: warmupS * 1000,
    phaseMs: (warmupS + measuredS) * 1000,
    requestLog: false,
    statsUrl: leanStats,
  });

  for (const section of options.only) {
    for (let rep = 0; rep < options.reps; rep++) {
      if (section === 'throughput') {
        for (const n of options.workers) cases.push({ section, spec: throughput(`throughput-${n}`, workers(n), warmupForShare(options.share)) });
      }
      if (section === 'streams') {
        // The ramp spreads the streams' starts over two stream lengths and covers the warm-up.
        const rampS = Math.max(warmupForShare(options.share), Math.ceil((2 * STREAM_MS) / 1000));
        // The steady part starts one stream length into the hold (see steady-window.ts).
        const holdS = Math.round(12 * scale) + (options.quick ? 1 : 0);
        const held = (label: string, n: number, streamsPerWorker: number): PlannedCase => ({
          section,
          spec: {
            label,
            workload: 'streams',
            workers: workers(n),
            plan: streamsPlan({ baseUrl: cluster.mockBaseUrl, workers: n, streamsPerWorker, rampS, holdS }),
            measuredMs: holdS * 1000,
            warmupMs: rampS * 1000,
            phaseMs: (rampS + holdS) * 1000 + STREAM_MS,
            requestLog: true,
            statsUrl: mockStats,
          },
        });
        for (const n of options.workers) {
          cases.push(held(`streams-${n}`, n, options.streams));
          // Half the streams on fresh workers: the RSS between the two is what a stream adds, without
          // the fixed costs (code, heap, buffers) that the per-stream upper bound includes.
          if (options.streams >= 2) cases.push(held(`streams-${n}-half`, n, Math.floor(options.streams / 2)));
        }
      }
      if (section === 'exact') {
        for (const n of options.workers) {
          cases.push({
            section,
            spec: {
              label: `exact-${n}`,
              workload: 'exact',
              workers: workers(n),
              plan: exactnessPlan({ baseUrl: cluster.mockBaseUrl, workers: n, requestsPerWorker: options['exact-requests'] }),
              measuredMs: null,
              warmupMs: 0,
              // About 1,000 requests a second per worker; bounded generously.
              phaseMs: options['exact-requests'] * 10,
              requestLog: true,
              statsUrl: mockStats,
            },
          });
        }
      }
      if (section === 'split') {
        cases.push(...splitCases(options.share, periodUs, (label, count, share, casePeriodUs, threads, warmupS) =>
          ({ section, spec: throughput(label, workers(count, share, casePeriodUs, threads), warmupS) }),
        ));
        // What a running shard costs per second whatever its load (timers, samplers, progress):
        // 4 workers at q/2, each holding 2 streams.
        const holdS = Math.round(8 * scale);
        const four = options.share / 2;
        cases.push({
          section,
          spec: {
            label: `4 x ${percent(four)}, 2 streams each: a shard's own cost`,
            workload: 'streams',
            workers: workers(4, four),
            plan: streamsPlan({ baseUrl: cluster.mockBaseUrl, workers: 4, streamsPerWorker: 2, rampS: 1, holdS }),
            measuredMs: holdS * 1000,
            warmupMs: 1000,
            phaseMs: (1 + holdS) * 1000 + STREAM_MS,
            requestLog: true,
            statsUrl: mockStats,
          },
        });
      }
    }
  }
  return cases;
}

const percent = (share: number): string => `${Math.round(share * 1000) / 10} %`;

/**
 * The same CPU split between 2 workers at `share` and 4 at `share / 2`, throughput workload, the
 * same requests in flight per worker: as the earlier measurement ran it (a thread per core, the
 * worker's default until its default honoured CPU quotas, and the same short warm-up for both),
 * then with one thread, then with the warm-up sized to the quota, then with a 10 ms CFS period.
 * The thread count is given, not left to the default: `ip netns exec` mounts a fresh /sys, so a
 * worker on a simulated host cannot read its quota and would take one thread per core.
 */
function splitCases<T>(
  share: number,
  periodUs: number,
  make: (label: string, count: number, share: number, periodUs: number, threads: number | null, warmupS: number) => T,
): T[] {
  const pair = share;
  const four = share / 2;
  const cores = availableParallelism();
  const label = (count: number, each: number, threads: string, warmupS: number, extra = '') =>
    `${count} x ${percent(each)}, ${threads}, warm-up ${warmupS} s${extra}`;
  return [
    make(label(2, pair, `${cores} threads`, FIXED_WARMUP_S), 2, pair, periodUs, cores, FIXED_WARMUP_S),
    make(label(4, four, `${cores} threads`, FIXED_WARMUP_S), 4, four, periodUs, cores, FIXED_WARMUP_S),
    make(label(2, pair, '1 thread', FIXED_WARMUP_S), 2, pair, periodUs, 1, FIXED_WARMUP_S),
    make(label(4, four, '1 thread', FIXED_WARMUP_S), 4, four, periodUs, 1, FIXED_WARMUP_S),
    make(label(2, pair, '1 thread', warmupForShare(pair)), 2, pair, periodUs, 1, warmupForShare(pair)),
    make(label(4, four, '1 thread', warmupForShare(four)), 4, four, periodUs, 1, warmupForShare(four)),
    make(label(4, four, '1 thread', warmupForShare(four), ', period 10 ms'), 4, four, 10_000, 1, warmupForShare(four)),
  ];
}

/** The held streams' pace: the mock's e2e and TTFT, in ms, for a stream read as fast as it is sent. */
export const STREAM_PACE = { ttftMs: 2000, e2eMs: STREAM_MS, tokens: STREAM_TOKENS } as const;
