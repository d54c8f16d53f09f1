import type { ErrorClass } from './llm-target';

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);
/** Errors that, before any response byte, mean the request never reached the server. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', ...DNS_CODES, ...RESET_CODES]);
const CLASS_BY_CODE: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  ['ECONNREFUSED', 'connection_refused'],
  ['UND_ERR_HEADERS_OVERFLOW', 'headers_too_large'],
  ['UND_ERR_RES_EXCEEDED_MAX_SIZE', 'response_too_large'],
  ...[...RESET_CODES].map((code): [string, ErrorClass] => [code, 'connection_reset']),
  ...[...TIMEOUT_CODES].map((code): [string, ErrorClass] => [code, 'timeout']),
  ...[...DNS_CODES].map((code): [string, ErrorClass] => [code, 'dns_failure']),
]);

type ErrorLike = { code?: string; name?: string; cause?: unknown } | undefined;

/** The error and its causes, outermost first (undici wraps Node's errors), each once. */
function* causeChain(error: unknown): Generator<NonNullable<ErrorLike>> {
  const seen = new Set<unknown>();
  for (
    let current = error as ErrorLike;
    current && typeof current === 'object' && !seen.has(current);
    current = current.cause as ErrorLike
  ) {
    seen.add(current);
    yield current;
  }
}

/** Maps a thrown network error (undici, Node) to the class it is counted under. */
export function classifyError(error: unknown, timedOut: boolean): ErrorClass {
  if (timedOut) return 'timeout';
  for (const current of causeChain(error)) {
    const byCode = current.code === undefined ? undefined : CLASS_BY_CODE.get(current.code);
    if (byCode) return byCode;
    if (current.name === 'AbortError') return 'aborted';
  }
  return 'other';
}

/**
 * Whether an error raised before any response byte arrived means the request never reached the
 * server (refused, unresolved, unreachable, a connect timeout, a reset before the response).
 */
export function isConnectFailure(error: unknown): boolean {
  for (const current of causeChain(error)) if (current.code !== undefined && CONNECT_CODES.has(current.code)) return true;
  return false;
}
