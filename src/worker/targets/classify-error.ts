import type { ErrorClass } from './llm-target';

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/** Maps a thrown network error (undici, Node) to the class it is counted under. */
export function classifyError(error: unknown, timedOut: boolean): ErrorClass {
  if (timedOut) return 'timeout';
  const seen = new Set<unknown>();
  for (let current = error as { code?: string; name?: string; cause?: unknown } | undefined; current && !seen.has(current); current = current.cause as typeof current) {
    seen.add(current);
    if (current.code === 'ECONNREFUSED') return 'connection_refused';
    if (current.code && RESET_CODES.has(current.code)) return 'connection_reset';
    if (current.code && TIMEOUT_CODES.has(current.code)) return 'timeout';
    if (current.name === 'AbortError') return 'aborted';
  }
  return 'other';
}
