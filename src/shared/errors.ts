/**
 * grym-perf's errors: one base class with a stable `code`, and one subclass per code, each with the
 * exit code the CLI ends with and a message that names the fix. Callers branch on `code`, never on
 * message text. Errors cross threads and Redis as `{ code, message, details }`.
 *
 * A failed request to the system under test is not an error here: it is data, counted by class.
 */

/**
 * How the CLI ends, for every outcome: the one place exit codes are defined, each outcome with its
 * meaning in `EXIT_MEANINGS` (which `--help` prints and the README's table repeats). A regression
 * shares 1 with a failed criterion: both say "this change is not good enough", and CI gates on it
 * the same way. A webhook that fails never changes the exit code.
 */
export const EXIT = { passed: 0, failed: 1, regressed: 1, usage: 2, infrastructure: 3, notFinished: 4, aborted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each outcome means, in the order `--help` lists them. */
export const EXIT_MEANINGS: Readonly<Record<keyof typeof EXIT, string>> = {
  passed: 'every criterion passed and nothing regressed (other commands: done)',
  failed:
    'a criterion failed, or a phase stopped early or did not complete (or its load generator was not trustworthy, with generator.failOnUntrustworthy)',
  regressed: 'a metric regressed against the baseline (`run --baseline`, `compare`)',
  usage: 'invalid plan or usage: nothing was queued or sent',
  infrastructure: 'infrastructure: Redis, workers, ports or shards failed',
  notFinished: '`report` of a run that has not finished yet (see --wait)',
  aborted: 'interrupted (Ctrl-C or SIGTERM): the reports written are marked aborted',
};

/** Each exit code with what it means (outcomes that share a code joined by "; or "), lowest first. */
export function exitCodeMeanings(): Array<{ code: number; meaning: string }> {
  const byCode = new Map<number, string[]>();
  for (const [outcome, code] of Object.entries(EXIT)) {
    byCode.set(code, [...(byCode.get(code) ?? []), EXIT_MEANINGS[outcome as keyof typeof EXIT]]);
  }
  return [...byCode.entries()].sort(([a], [b]) => a - b).map(([code, meanings]) => ({ code, meaning: meanings.join('; or ') }));
}

/** The exit codes, one line per code, for `--help`. */
export function exitCodesHelp(): string {
  return ['Exit codes:', ...exitCodeMeanings().map(({ code, meaning }) => `  ${String(code).padEnd(4)} ${meaning}`)].join('\n');
}

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export abstract class GrymError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly exitCode: ExitCode;
  readonly details: unknown;
  /** What to do about it: the end of the message. */
  readonly fix: string;

  constructor(problem: string, fix: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(`${problem}: ${fix}`, { cause: options.cause });
    this.name = new.target.name;
    this.fix = fix;
    this.details = options.details;
  }

  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }
}

/** An invalid plan: `problems` holds one line per problem, each naming its field and the fix. */
export class PlanInvalidError extends GrymError {
  readonly code = 'GRYM_ERR_PLAN_INVALID';
  readonly exitCode = EXIT.usage;
  readonly problems: string[];

  constructor(source: string, problems: string[]) {
    // A long list ends with "... and N more problems": the header counts those too.
    const unlisted = Number(/^\.\.\. and (\d+) more problem/.exec(problems.at(-1) ?? '')?.[1] ?? 0);
    const total = problems.length + (unlisted > 0 ? unlisted - 1 : 0);
    const count = `${total} problem${total === 1 ? '' : 's'}`;
    super(`${source}: invalid plan (${count})`, `fix each:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`, {
      details: { problems },
    });
    this.problems = problems;
  }
}

export class PlanUnreadableError extends GrymError {
  readonly code = 'GRYM_ERR_PLAN_UNREADABLE';
  readonly exitCode = EXIT.usage;

  constructor(path: string, reason: string, cause?: unknown) {
    super(`cannot read plan file ${path} (${reason})`, 'check the path, relative to the current directory', { cause });
  }
}

/** A command used the wrong way: the message says the right way. */
export class UsageError extends GrymError {
  readonly code = 'GRYM_ERR_USAGE';
  readonly exitCode = EXIT.usage;

  constructor(problem: string, fix: string) {
    super(problem, fix);
  }
}

export class RunNotFoundError extends GrymError {
  readonly code = 'GRYM_ERR_RUN_NOT_FOUND';
  readonly exitCode = EXIT.usage;

  constructor(runId: string, where: string) {
    super(
      `run ${runId} is not in Redis at ${where}`,
      'check the run id and --prefix (or Redis lost its data: was it restarted without persistence?)',
    );
  }
}

/** A module target that cannot serve: checked once, when it is loaded. */
export class ModuleInvalidError extends GrymError {
  readonly code = 'GRYM_ERR_MODULE_INVALID';
  readonly exitCode = EXIT.usage;

  constructor(path: string, problem: string) {
    super(
      `module target ${path}: ${problem}`,
      'export createSession({ model, systemPrompt }) returning { send({ model, text }), close() } (see the README)',
    );
  }
}

/** A worker refuses to read an environment variable its operator did not allow. */
export class EnvNotAllowedError extends GrymError {
  readonly code = 'GRYM_ERR_ENV_NOT_ALLOWED';
  readonly exitCode = EXIT.usage;

  constructor(name: string, worker: string) {
    super(
      `worker ${worker} does not give environment variable ${name} to plans`,
      name.toUpperCase().startsWith('GRYM_')
        ? 'GRYM_* variables are never given to plans: name another variable in target.apiKeyEnv'
        : `start the worker with --allow-env ${name} (or add it to GRYM_ALLOW_ENV), or name another variable`,
    );
  }
}

/** target.apiKeyEnv names a variable that is not set where the requests are sent. */
export class EnvNotSetError extends GrymError {
  readonly code = 'GRYM_ERR_ENV_NOT_SET';
  readonly exitCode = EXIT.usage;

  constructor(name: string, where: string) {
    super(
      `target.apiKeyEnv names ${name}, which is not set ${where}`,
      `export ${name} before the run, or remove apiKeyEnv if the server needs no key`,
    );
  }
}

/** A worker refuses a module target outside the folder its operator allowed. */
export class ModuleNotAllowedError extends GrymError {
  readonly code = 'GRYM_ERR_MODULE_NOT_ALLOWED';
  readonly exitCode = EXIT.usage;

  constructor(path: string, worker: string, allowed: string | undefined) {
    super(
      `worker ${worker} does not load module ${path}`,
      allowed
        ? `only modules inside ${allowed} are loaded: put it there`
        : 'start the worker with --allow-modules DIR and put the module inside DIR',
    );
  }
}

/** Where reports go cannot be written: found before the first request, not after the run. */
export class OutUnwritableError extends GrymError {
  readonly code = 'GRYM_ERR_OUT_UNWRITABLE';
  readonly exitCode = EXIT.usage;

  constructor(path: string, reason: string, flag = '--out') {
    super(`cannot write to ${path} (${reason})`, `give ${flag} a place you can write to`);
  }
}

/** The run asked for has not finished yet. */
export class RunNotFinishedError extends GrymError {
  readonly code = 'GRYM_ERR_RUN_NOT_FINISHED';
  readonly exitCode = EXIT.notFinished;

  constructor(runId: string, state: string) {
    super(`run ${runId} is ${state}`, `wait for it: grym-perf report ${runId} --wait`);
  }
}

export class PortInUseError extends GrymError {
  readonly code = 'GRYM_ERR_PORT_IN_USE';
  readonly exitCode = EXIT.infrastructure;

  constructor(host: string, port: number) {
    super(`${host}:${port} is already in use`, 'stop what listens there, or pass another --port (0 picks a free one)');
  }
}

export class RedisUnavailableError extends GrymError {
  readonly code = 'GRYM_ERR_REDIS_UNAVAILABLE';
  readonly exitCode = EXIT.infrastructure;

  /** `where` is the redacted URL; `fix` defaults to checking that Redis runs there. */
  constructor(problem: string, fix = 'check that Redis runs there and that the URL and password are right', cause?: unknown) {
    super(problem, fix, { cause });
  }
}

export class NoWorkersError extends GrymError {
  readonly code = 'GRYM_ERR_NO_WORKERS';
  readonly exitCode = EXIT.infrastructure;

  constructor(prefix: string) {
    super(
      `no grym-perf worker is listening on this Redis (prefix "${prefix}"); nothing was queued`,
      'start one with: grym-perf worker --redis <url>',
    );
  }
}

/** The shards of a phase could not all start together. */
export class BarrierTimeoutError extends GrymError {
  readonly code = 'GRYM_ERR_BARRIER_TIMEOUT';
  readonly exitCode = EXIT.infrastructure;

  constructor(phaseName: string, arrived: number, shardCount: number, timeoutMs: number) {
    super(
      `phase "${phaseName}": only ${arrived} of ${shardCount} shards found a worker within ${timeoutMs} ms`,
      "start more workers (or more --concurrency per worker), or lower the phase's shards",
      { details: { arrived, shardCount } },
    );
  }
}

/** Shards of a phase failed after their attempts; the phase is reported with what the others measured. */
export class ShardFailedError extends GrymError {
  readonly code = 'GRYM_ERR_SHARD_FAILED';
  readonly exitCode = EXIT.infrastructure;

  constructor(phaseName: string, failed: number, shardCount: number, reasons: string) {
    super(
      `${failed} of ${shardCount} shard(s) of phase "${phaseName}" failed (${reasons})`,
      "see the workers' logs for the cause; the phase counts what the other shards measured",
    );
  }
}

/** A phase of a distributed run never ran (it could not fan out its shards). */
export class PhaseNotRunError extends GrymError {
  readonly code = 'GRYM_ERR_PHASE_NOT_RUN';
  readonly exitCode = EXIT.infrastructure;

  constructor(phaseName: string) {
    super(`phase "${phaseName}" did not run`, "see the phase job's failure in the dashboard or the workers' logs");
  }
}

/** The run's results could not be turned into its report. */
export class AggregationFailedError extends GrymError {
  readonly code = 'GRYM_ERR_AGGREGATION_FAILED';
  readonly exitCode = EXIT.infrastructure;

  constructor(runId: string, reason: string) {
    super(
      `run ${runId} failed to aggregate (${reason})`,
      'its phase results are kept in Redis: retry the run job from the dashboard (--writable) once the cause is fixed',
    );
  }
}

/** A broken invariant: a bug in grym-perf, never the user's doing. */
export class InternalError extends GrymError {
  readonly code = 'GRYM_ERR_INTERNAL';
  readonly exitCode = EXIT.infrastructure;

  constructor(problem: string, cause?: unknown) {
    super(problem, 'this is a bug in grym-perf: please report it with the command you ran', { cause });
  }
}

/** Every error code, and the class that raises it. */
export const ERROR_CLASSES = {
  GRYM_ERR_PLAN_INVALID: PlanInvalidError,
  GRYM_ERR_PLAN_UNREADABLE: PlanUnreadableError,
  GRYM_ERR_USAGE: UsageError,
  GRYM_ERR_RUN_NOT_FOUND: RunNotFoundError,
  GRYM_ERR_MODULE_INVALID: ModuleInvalidError,
  GRYM_ERR_ENV_NOT_ALLOWED: EnvNotAllowedError,
  GRYM_ERR_ENV_NOT_SET: EnvNotSetError,
  GRYM_ERR_MODULE_NOT_ALLOWED: ModuleNotAllowedError,
  GRYM_ERR_OUT_UNWRITABLE: OutUnwritableError,
  GRYM_ERR_RUN_NOT_FINISHED: RunNotFinishedError,
  GRYM_ERR_PORT_IN_USE: PortInUseError,
  GRYM_ERR_REDIS_UNAVAILABLE: RedisUnavailableError,
  GRYM_ERR_NO_WORKERS: NoWorkersError,
  GRYM_ERR_BARRIER_TIMEOUT: BarrierTimeoutError,
  GRYM_ERR_SHARD_FAILED: ShardFailedError,
  GRYM_ERR_PHASE_NOT_RUN: PhaseNotRunError,
  GRYM_ERR_AGGREGATION_FAILED: AggregationFailedError,
  GRYM_ERR_INTERNAL: InternalError,
} as const;

export type ErrorCode = keyof typeof ERROR_CLASSES;

/** Any thrown value as a payload that survives structured clone and JSON. */
export function toErrorPayload(error: unknown): ErrorPayload {
  if (error instanceof GrymError) return error.toPayload();
  if (error instanceof Error) return { code: 'GRYM_ERR_INTERNAL', message: error.message };
  return { code: 'GRYM_ERR_INTERNAL', message: String(error) };
}
