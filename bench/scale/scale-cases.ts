/**
 * The cases `bench:scale` runs, section by section: what each submits, to which target, with how
 * many workers under which quota, and for how long.
 */
import type { ScaleCaseSpec } from './run-scale-case';
import type { ScaleCluster } from './scale-cluster';
import type { ScaleOptions, Section } from './scale-options';
import { exactnessPlan, STREAM_TOKENS, streamsPlan, throughputPlan } from './scale-plans';

/**
 * CPU seconds a fresh worker process spends before its request path runs at steady speed: V8
 * compiles it on the worker's own threads, inside its quota, during the first requests of its
 * first phase (measured: 0.4-0.5 CPU-s at 12.5, 25 and 50 % of a core, for streamed and
 * non-streamed answers alike). The start-up warm-up of `grym-perf worker` lasts 250 ms of wall
 * time, which is 31 ms of CPU at 12.5 %: it does not cover this. A warm-up of WARM_CPU_S / quota
 * seconds does, three times over, whatever the quota.
 */
const WARM_CPU_S = 1.5;
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
        for (const n of options.workers) {
          cases.push({
            section,
            spec: {
              label: `streams-${n}`,
              workload: 'streams',
              workers: workers(n),
              plan: streamsPlan({ baseUrl: cluster.mockBaseUrl, workers: n, streamsPerWorker: options.streams, rampS, holdS }),
              measuredMs: holdS * 1000,
              warmupMs: rampS * 1000,
              phaseMs: (rampS + holdS) * 1000 + STREAM_MS,
              statsUrl: mockStats,
            },
          });
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
              statsUrl: mockStats,
            },
          });
        }
      }
      if (section === 'split') {
        // The same CPU split two ways, then the same with the warm-up sized to the quota,
        // then the two other suspects: a shorter CFS period, and a thread per core (the default).
        const pair = options.share;
        const four = options.share / 2;
        const pct = (share: number) => `${Math.round(share * 1000) / 10} %`;
        cases.push(
          { section, spec: throughput(`2 x ${pct(pair)}, warm-up ${FIXED_WARMUP_S} s`, workers(2, pair), FIXED_WARMUP_S) },
          { section, spec: throughput(`4 x ${pct(four)}, warm-up ${FIXED_WARMUP_S} s`, workers(4, four), FIXED_WARMUP_S) },
          { section, spec: throughput(`2 x ${pct(pair)}, warm-up ${warmupForShare(pair)} s`, workers(2, pair), warmupForShare(pair)) },
          { section, spec: throughput(`4 x ${pct(four)}, warm-up ${warmupForShare(four)} s`, workers(4, four), warmupForShare(four)) },
          {
            section,
            spec: throughput(`4 x ${pct(four)}, warm-up ${warmupForShare(four)} s, period 10 ms`, workers(4, four, 10_000), warmupForShare(four)),
          },
          {
            section,
            spec: throughput(`4 x ${pct(four)}, warm-up ${warmupForShare(four)} s, default threads`, workers(4, four, periodUs, null), warmupForShare(four)),
          },
        );
      }
    }
  }
  return cases;
}

/** The held streams' pace: the mock's e2e and TTFT, in ms, for a stream read as fast as it is sent. */
export const STREAM_PACE = { ttftMs: 2000, e2eMs: STREAM_MS, tokens: STREAM_TOKENS } as const;
