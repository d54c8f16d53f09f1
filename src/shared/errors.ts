/**
 * One base error with a stable `code`; callers branch on the code, never on message text. Errors
 * cross threads and Redis as `{ code, message, details }`.
 */

export type ErrorCode =
  | 'GRYM_ERR_PLAN_INVALID'
  | 'GRYM_ERR_PLAN_UNREADABLE'
  | 'GRYM_ERR_USAGE'
  | 'GRYM_ERR_REDIS_UNAVAILABLE'
  | 'GRYM_ERR_NO_WORKERS'
  | 'GRYM_ERR_SHARD_FAILED'
  | 'GRYM_ERR_RUN_NOT_FOUND'
  | 'GRYM_ERR_INTERNAL';

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export class GrymError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'GrymError';
    this.code = code;
    this.details = options.details;
  }

  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }
}

/** An invalid plan: `problems` holds one line per problem, each naming its field and the fix. */
export class PlanInvalidError extends GrymError {
  readonly problems: string[];

  constructor(source: string, problems: string[]) {
    super('GRYM_ERR_PLAN_INVALID', `${source}: invalid plan (${problems.length} problem${problems.length === 1 ? '' : 's'})\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      details: { problems },
    });
    this.problems = problems;
  }
}

export class UsageError extends GrymError {
  constructor(message: string) {
    super('GRYM_ERR_USAGE', message);
  }
}

/** Any thrown value as a payload that survives structured clone and JSON. */
export function toErrorPayload(error: unknown): ErrorPayload {
  if (error instanceof GrymError) return error.toPayload();
  if (error instanceof Error) return { code: 'GRYM_ERR_INTERNAL', message: error.message };
  return { code: 'GRYM_ERR_INTERNAL', message: String(error) };
}
