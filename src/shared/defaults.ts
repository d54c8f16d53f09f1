/**
 * Defaults shared by more than one part of grym-perf (CLI flags, coordinator, workers, dashboard),
 * in one visible place. Plan defaults live in the plan schema, next to the fields they fill.
 */

/** Queue prefix shared by coordinator, workers and dashboard. */
export const DEFAULT_PREFIX = 'grym';

/** How long a phase's shards wait for each other at the start barrier. */
export const DEFAULT_BARRIER_TIMEOUT_MS = 30_000;

/** How long a shard's lock lives without renewal: the time to notice a dead worker. */
export const DEFAULT_LOCK_DURATION_MS = 30_000;

/** Attempts per shard job; a worker that dies does not use one up (the job stalls and reruns). */
export const DEFAULT_SHARD_ATTEMPTS = 2;

/** How long finished jobs (and so run reports) stay in Redis. */
export const JOB_RETENTION_SECONDS = 30 * 24 * 3600;

/** How long `run` waits for a first worker before refusing to queue a run. */
export const WORKER_WAIT_MS = 5000;

/** Where `run` and `report` write their reports. */
export const DEFAULT_OUT_DIR = 'reports/latest';

/** How long a command waits for Redis to answer at start before it exits 3. */
export const DEFAULT_REDIS_TIMEOUT_MS = 10_000;

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_MOCK_PORT = 8000;
export const DEFAULT_DASHBOARD_PORT = 3000;

/** Requests per phase kept for `run --requests` (about 200 bytes each), and the most a run may ask for. */
export const DEFAULT_REQUEST_LOG_SIZE = 10_000;
export const MAX_REQUEST_LOG_SIZE = 100_000;

/** Where `run` keeps every run for `history` and `compare` (relative to the current directory; --history, GRYM_HISTORY_DIR). */
export const DEFAULT_HISTORY_DIR = '.grym-perf/history';

/** How long the shared (Redis) history keeps a run: as long as the run's jobs (--history-retention). */
export const DEFAULT_HISTORY_RETENTION_MS = JOB_RETENTION_SECONDS * 1000;

/** Newest runs of a plan `grym-perf trend` reads (--limit): each is a whole kept run, report and histograms. */
export const DEFAULT_TREND_RUNS = 100;

/**
 * Practical significance of `compare` (a plan's `regression:` block overrides each): the smallest
 * change that counts. Tails move more between runs of unchanged code than medians, so p99 and the
 * rare switch get wider margins; the trend noise envelope measures what a history actually needs.
 */
export const DEFAULT_REGRESSION_THRESHOLDS = {
  'latency.e2e.p50': '+10%',
  'latency.e2e.p95': '+10%',
  'latency.e2e.p99': '+20%',
  'latency.ttft.p50': '+10%',
  'latency.ttft.p95': '+10%',
  'latency.ttft.p99': '+20%',
  'latency.itl.p50': '+10%',
  'latency.itl.p95': '+10%',
  'latency.itl.p99': '+20%',
  'switch.time.p50': '+20%',
  'switch.time.p95': '+20%',
  'throughput.rps': '-10%',
  'requests.errorRate': '+1pp',
  'context.preservation': '-2pp',
  stability: '-10pp',
} as const;

/**
 * Fewest values per side before `compare` judges a metric (fewer: inconclusive). 30 per side is
 * where the rank test's normal approximation and the bootstrap hold; a percentile also needs at
 * least COMPARISON_MIN_TAIL_VALUES values beyond it on each side (p99: 100 requests), else it is
 * the maximum of a handful. Throughput is judged over measured windows, at least COMPARISON_MIN_WINDOWS.
 */
export const COMPARISON_MIN_SAMPLES = 30;
export const COMPARISON_MIN_TAIL_VALUES = 1;
export const COMPARISON_MIN_WINDOWS = 8;

/**
 * Earlier runs (same plan, workload and environment fingerprint) at the current level (since the
 * last change point) before their noise calibrates a default regression threshold: 5 runs give 10
 * A/A pairs, the fewest whose 95th percentile is more than the largest pair.
 */
export const NOISE_CALIBRATION_MIN_RUNS = 5;
