/**
 * Thrown network errors (Node's and undici's, often wrapped in a `cause`) mapped to the classes
 * failed requests are counted under, and which of them mean the request never reached the server.
 */
import { classifyError, isConnectFailure } from '../../src/worker/targets/classify-error';

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });
const wrapped = (cause: Error) => Object.assign(new TypeError('fetch failed'), { cause });

describe('classifyError', () => {
  test.each([
    ['ECONNREFUSED', 'connection_refused', true],
    ['ECONNRESET', 'connection_reset', true],
    ['UND_ERR_SOCKET', 'connection_reset', true],
    ['ENOTFOUND', 'dns_failure', true],
    ['EAI_AGAIN', 'dns_failure', true],
    ['UND_ERR_CONNECT_TIMEOUT', 'timeout', true],
    ['EHOSTUNREACH', 'other', true],
    ['UND_ERR_HEADERS_TIMEOUT', 'timeout', false],
    ['UND_ERR_HEADERS_OVERFLOW', 'headers_too_large', false],
    ['UND_ERR_RES_EXCEEDED_MAX_SIZE', 'response_too_large', false],
    ['ERR_SOMETHING_ELSE', 'other', false],
  ])('%s: %s (never reached the server before a response: %s)', (code, errorClass, connect) => {
    expect(classifyError(coded(code), false)).toBe(errorClass);
    expect(classifyError(wrapped(coded(code)), false)).toBe(errorClass);
    expect(isConnectFailure(wrapped(coded(code)))).toBe(connect);
  });

  test("the harness's own timer wins over whatever the abort threw; an abort without it is `aborted`", () => {
    const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    expect(classifyError(abort, true)).toBe('timeout');
    expect(classifyError(abort, false)).toBe('aborted');
  });

  test('a cause chain that loops back is walked once', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    a.cause = wrapped(a);
    expect(classifyError(a, false)).toBe('other');
    expect(isConnectFailure(a)).toBe(false);
  });
});
