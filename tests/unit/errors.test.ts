/**
 * The error catalogue: every code has its class, an exit code, and a message that ends with the
 * fix. A new code without a row here fails the first test.
 */
import {
  AggregationFailedError,
  BarrierTimeoutError,
  EnvNotAllowedError,
  EnvNotSetError,
  ERROR_CLASSES,
  EXIT,
  GrymError,
  InternalError,
  ModuleInvalidError,
  ModuleNotAllowedError,
  NoWorkersError,
  OutUnwritableError,
  PhaseNotRunError,
  PlanInvalidError,
  PlanUnreadableError,
  PortInUseError,
  RedisUnavailableError,
  RunNotFinishedError,
  RunNotFoundError,
  ShardFailedError,
  toErrorPayload,
  UsageError,
  type ErrorCode,
} from '../../src/shared/errors';

const examples: Record<ErrorCode, [GrymError, number]> = {
  GRYM_ERR_PLAN_INVALID: [new PlanInvalidError('plan.yaml', ['phases[0].load.concurrency: must be >= 1 (got 0)']), EXIT.usage],
  GRYM_ERR_PLAN_UNREADABLE: [new PlanUnreadableError('missing.yaml', 'ENOENT'), EXIT.usage],
  GRYM_ERR_USAGE: [new UsageError('this command needs Redis', 'pass --redis'), EXIT.usage],
  GRYM_ERR_RUN_NOT_FOUND: [new RunNotFoundError('r1', 'redis://127.0.0.1:6379'), EXIT.usage],
  GRYM_ERR_MODULE_INVALID: [new ModuleInvalidError('/x/m.js', 'does not export createSession'), EXIT.usage],
  GRYM_ERR_ENV_NOT_ALLOWED: [new EnvNotAllowedError('VLLM_API_KEY', 'w1'), EXIT.usage],
  GRYM_ERR_ENV_NOT_SET: [new EnvNotSetError('VLLM_API_KEY', 'on worker w1'), EXIT.usage],
  GRYM_ERR_MODULE_NOT_ALLOWED: [new ModuleNotAllowedError('/tmp/x.js', 'w1', undefined), EXIT.usage],
  GRYM_ERR_OUT_UNWRITABLE: [new OutUnwritableError('/proc/out', 'EACCES'), EXIT.usage],
  GRYM_ERR_RUN_NOT_FINISHED: [new RunNotFinishedError('r1', 'running: phase 2 of 3'), EXIT.notFinished],
  GRYM_ERR_PORT_IN_USE: [new PortInUseError('127.0.0.1', 3000), EXIT.infrastructure],
  GRYM_ERR_REDIS_UNAVAILABLE: [new RedisUnavailableError('cannot reach Redis at redis://127.0.0.1:1'), EXIT.infrastructure],
  GRYM_ERR_NO_WORKERS: [new NoWorkersError('grym'), EXIT.infrastructure],
  GRYM_ERR_BARRIER_TIMEOUT: [new BarrierTimeoutError('load', 1, 2, 2000), EXIT.infrastructure],
  GRYM_ERR_SHARD_FAILED: [new ShardFailedError('load', 1, 2, 'ECONNRESET'), EXIT.infrastructure],
  GRYM_ERR_PHASE_NOT_RUN: [new PhaseNotRunError('load'), EXIT.infrastructure],
  GRYM_ERR_AGGREGATION_FAILED: [new AggregationFailedError('r1', 'plan no longer valid'), EXIT.infrastructure],
  GRYM_ERR_INTERNAL: [new InternalError('mergeShardResults needs at least one result'), EXIT.infrastructure],
};

test('every code in the catalogue has an example here', () => {
  expect(Object.keys(examples).sort()).toEqual(Object.keys(ERROR_CLASSES).sort());
});

describe.each(Object.entries(examples))('%s', (code, [error, exitCode]) => {
  test('is raised by its own class, with its exit code', () => {
    expect(error).toBeInstanceOf(ERROR_CLASSES[code as ErrorCode]);
    expect(error).toBeInstanceOf(GrymError);
    expect(error.code).toBe(code);
    expect(error.exitCode).toBe(exitCode);
    expect(error.name).toBe(ERROR_CLASSES[code as ErrorCode].name);
  });

  test('says what is wrong, then the fix', () => {
    expect(error.fix.length).toBeGreaterThan(10);
    expect(error.message.endsWith(error.fix)).toBe(true);
    expect(error.message.length).toBeGreaterThan(error.fix.length + 10);
  });

  test('crosses threads and Redis as a plain payload', () => {
    const payload = structuredClone(toErrorPayload(error));
    expect(payload).toMatchObject({ code, message: error.message });
  });
});

test('codes are distinct: no two classes share one', () => {
  const codes = Object.values(examples).map(([error]) => error.code);
  expect(new Set(codes).size).toBe(codes.length);
});

test('anything else thrown becomes an internal error payload', () => {
  expect(toErrorPayload(new TypeError('x is undefined'))).toEqual({ code: 'GRYM_ERR_INTERNAL', message: 'x is undefined' });
  expect(toErrorPayload('plain')).toEqual({ code: 'GRYM_ERR_INTERNAL', message: 'plain' });
});

test('a capped list of plan problems counts the ones not listed in its header', () => {
  const error = new PlanInvalidError('big.yaml', ['a: x', 'b: y', '... and 75 more problems, not listed: fix the ones above first']);
  expect(error.message.split('\n')[0]).toBe('big.yaml: invalid plan (77 problems): fix each:');
});
