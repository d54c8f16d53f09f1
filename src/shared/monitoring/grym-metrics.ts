/**
 * The Prometheus metrics grym-perf exposes (`--metrics-port` on `run`, `worker` and `dashboard`),
 * in one registry per process. Names, labels and buckets are documented in the README's
 * "Monitoring" section: change them together.
 *
 * Labels: `run` (run id), `phase` (phase name), `worker` (the worker process that sent the
 * requests, as reports name it). Request counts and latency histograms are fed from the windows
 * the generator threads close and reconciled with each shard's result when it ends, so once a
 * phase has ended they equal its report (see shard-metrics-feed.ts).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Time to first token, in seconds: from a fast local model (10 ms) to a cold large one (30 s). */
const TTFT_BUCKETS_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Whole request, in seconds: from a short answer (50 ms) to a long generation (5 min). */
const E2E_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

/** Run states, as a state set: the current one is 1, the others 0. */
export const RUN_STATES = ['running', 'passed', 'failed', 'aborted'] as const;
export type RunState = (typeof RUN_STATES)[number];
/** Phase states, as a state set. */
export const PHASE_STATES = ['running', 'passed', 'failed'] as const;
export type PhaseState = (typeof PHASE_STATES)[number];

const SHARD_LABELS = ['run', 'phase', 'worker'] as const;

export function createGrymMetrics() {
  const registry = new Registry();
  // The process's own CPU, memory, event loop and GC, as every Node exporter shows them, under
  // grym_ (grym_process_resident_memory_bytes, grym_nodejs_eventloop_lag_p99_seconds): prom-client
  // puts the prefix before its own process_ and nodejs_ names.
  collectDefaultMetrics({ register: registry, prefix: 'grym_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'grym_requests_total',
      help: 'Measured requests that ended, by outcome (ok, error) and error class (empty when ok)',
      labelNames: [...SHARD_LABELS, 'outcome', 'error_class'],
      registers,
    }),
    inFlight: new Gauge({
      name: 'grym_requests_in_flight',
      help: 'Mean requests in flight over the latest window the generator threads closed',
      labelNames: SHARD_LABELS,
      registers,
    }),
    ttft: new Histogram({
      name: 'grym_ttft_seconds',
      help: 'Time to first token of the measured successful requests, in seconds',
      labelNames: SHARD_LABELS,
      buckets: TTFT_BUCKETS_SECONDS,
      registers,
    }),
    e2e: new Histogram({
      name: 'grym_e2e_seconds',
      help: 'Request sent to last byte of the measured successful requests, in seconds',
      labelNames: SHARD_LABELS,
      buckets: E2E_BUCKETS_SECONDS,
      registers,
    }),
    shardsRunning: new Gauge({
      name: 'grym_shards_running',
      help: 'Shards of the phase running now in this process',
      labelNames: SHARD_LABELS,
      registers,
    }),
    runState: new Gauge({
      name: 'grym_run_state',
      help: 'State of the run: 1 for the state it is in (running, passed, failed, aborted), 0 for the others',
      labelNames: ['run', 'plan', 'state'],
      registers,
    }),
    runPhase: new Gauge({
      name: 'grym_run_phase_index',
      help: 'Index (from 0) of the phase the run is in, or of the last one it ran',
      labelNames: ['run'],
      registers,
    }),
    phaseState: new Gauge({
      name: 'grym_phase_state',
      help: 'State of each phase that started: 1 for the state it is in (running, passed, failed), 0 for the others',
      labelNames: ['run', 'phase', 'state'],
      registers,
    }),
    phaseRequests: new Gauge({
      name: 'grym_phase_requests',
      help: 'Requests of a distributed run phase so far, by outcome, as its workers reported them to Redis (dashboard)',
      labelNames: ['run', 'phase', 'outcome'],
      registers,
    }),
    loopLagMax: new Gauge({
      name: 'grym_generator_loop_lag_max_seconds',
      help: 'Worst event-loop lag of the generator threads in the latest closed window, in seconds',
      labelNames: SHARD_LABELS,
      registers,
    }),
    loopLagP99: new Gauge({
      name: 'grym_generator_loop_lag_p99_seconds',
      help: "p99 event-loop lag of the generator threads over the phase's measured part, once a shard ended, in seconds",
      labelNames: SHARD_LABELS,
      registers,
    }),
    utilization: new Gauge({
      name: 'grym_generator_busiest_utilization',
      help: 'Event-loop utilization (0..1) of the busiest generator thread over a shard, once it ended',
      labelNames: SHARD_LABELS,
      registers,
    }),
    trustworthy: new Gauge({
      name: 'grym_generator_trustworthy',
      help: '1 when the report judged the generator kept up over the phase, 0 when its latencies may measure the harness',
      labelNames: ['run', 'phase'],
      registers,
    }),
  };
}

export type GrymMetrics = ReturnType<typeof createGrymMetrics>;

/** Sets a state set: 1 for `current`, 0 for the other states. */
export function setStateSet<S extends string>(
  gauge: Gauge<string>,
  labels: Record<string, string>,
  states: readonly S[],
  current: S,
): void {
  for (const state of states) gauge.set({ ...labels, state }, state === current ? 1 : 0);
}
