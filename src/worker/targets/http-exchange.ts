/**
 * What the HTTP targets share: one POST with a timeout, where an HTTP error status, a malformed
 * body and a network error all come back as classified failures, never as exceptions; and the
 * lines of a streamed body (SSE or NDJSON) as they arrive, however the chunks split them.
 *
 * Bodies are bounded: undici stops reading a response past the pool's `maxResponseSize` (the
 * target's `maxResponseBytes`) and closes it, and an error body is read only up to a few KiB, so
 * a hostile or broken server cannot make the harness hold more than that per request in flight.
 */
import type { Dispatcher } from 'undici';
import { classifyError, isConnectFailure } from './classify-error';
import type { HttpConnections } from './http-connections';
import type { InFlightRequests } from './in-flight-requests';
import type { RequestFailure, RequestOutcome } from './llm-target';

/** Thrown by a body reader when the response does not follow the API: counted as malformed. */
export class MalformedResponse extends Error {}

/** How much of an error body (status >= 300) is read: enough for the server's message, never a 10 MB page. */
const ERROR_BODY_BYTES = 4096;

export interface HttpExchange {
  path: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** The pool's `maxResponseSize`, named in the message of a response cut off there. */
  maxResponseBytes: number;
  /** The target's requests in flight: when the harness stops the phase, this one is abandoned and comes back `aborted`. */
  inFlight?: InFlightRequests | undefined;
}

/** Up to ERROR_BODY_BYTES of an error body, whitespace folded; the rest is never read (the response is closed). */
async function errorBodyText(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      bytes += chunk.length;
      // Leaving the loop destroys the body: undici closes the connection instead of reading on.
      if (bytes >= ERROR_BODY_BYTES) break;
    }
  } catch {
    // a reset or timeout mid-body: what arrived still says why
  }
  return Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
}

function failure(startMs: number, errorClass: RequestFailure['errorClass'], message: string, connectionFailure = false): RequestFailure {
  const outcome: RequestFailure = { ok: false, startMs, endMs: performance.now(), errorClass, message };
  if (connectionFailure) outcome.connectionFailure = true;
  return outcome;
}

/** The failure a thrown error stands for; `responded`: the response headers had arrived. */
function thrownFailure(error: unknown, startMs: number, request: HttpExchange, timedOut: boolean, responded: boolean): RequestFailure {
  if (error instanceof MalformedResponse) return failure(startMs, 'malformed_response', error.message);
  const errorClass = classifyError(error, timedOut);
  if (errorClass === 'response_too_large') {
    return failure(startMs, errorClass, `response body over ${request.maxResponseBytes} bytes (target.maxResponseBytes): cut off there`);
  }
  if (timedOut) {
    const where = responded ? 'the body was still arriving' : 'no response headers yet';
    return failure(startMs, errorClass, `no complete response within ${request.timeoutMs} ms (target.requestTimeout; ${where})`);
  }
  return failure(startMs, errorClass, (error as Error).message, !responded && isConnectFailure(error));
}

/** What an attempt asks for when the server closed its pooled connection before answering. */
const RETRY = Symbol('retry on a fresh connection');

/**
 * One POST, its outcome never thrown: an error status (>= 300) with the server's text, a body the
 * reader rejects, a network error, a timeout, or `aborted` when the harness stopped the phase
 * while it was in flight (`request.inFlight`). A request whose pooled connection the server closed
 * before any response byte never reached it: it is sent once more on a fresh connection (counted
 * by `connections`), its times taken from that send; a second close is a `connection_reset`.
 */
export async function postWithTimeout(
  connections: HttpConnections,
  request: HttpExchange,
  readBody: (body: Dispatcher.ResponseData['body'], startMs: number) => Promise<RequestOutcome>,
): Promise<RequestOutcome> {
  const { inFlight } = request;
  if (inFlight?.stopped) return failure(performance.now(), 'aborted', 'the phase was stopped before this request was sent');
  const controller = new AbortController();
  let timedOut = false;
  let stopped = false;
  const timer = setTimeout(() => {
    timedOut = !stopped;
    controller.abort();
  }, request.timeoutMs);
  const abandon = () => {
    stopped = !timedOut;
    controller.abort();
  };
  inFlight?.track(abandon);

  const attempt = async (dispatcher: Dispatcher, retryable: boolean): Promise<RequestOutcome | typeof RETRY> => {
    const startMs = performance.now();
    let response: Dispatcher.ResponseData | undefined;
    try {
      response = await dispatcher.request({
        path: request.path,
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: controller.signal,
      });
      // Redirects are not followed: a 3xx is an answer the client cannot use, counted by its status.
      if (response.statusCode >= 300) {
        const text = await errorBodyText(response.body);
        return failure(startMs, `http_${response.statusCode}`, text || `HTTP ${response.statusCode} with an empty body`);
      }
      return await readBody(response.body, startMs);
    } catch (error) {
      // A reader that gave up early leaves the body unread: close it rather than let the socket hold it
      // (destroying an unread undici body emits an abort error: listened to, or it would crash the process).
      response?.body.on('error', () => undefined).destroy();
      if (stopped) return failure(startMs, 'aborted', 'the phase was stopped while this request was in flight');
      if (retryable && response === undefined && !timedOut && classifyError(error, false) === 'connection_reset') return RETRY;
      return thrownFailure(error, startMs, request, timedOut, response !== undefined);
    }
  };

  try {
    const outcome = await attempt(connections.pool, true);
    if (outcome !== RETRY) return outcome;
    return (await connections.retryOnFreshConnection((client) => attempt(client, false))) as RequestOutcome;
  } finally {
    clearTimeout(timer);
    inFlight?.release(abandon);
  }
}

/**
 * The lines of a streamed body, each yielded as soon as its newline (or the end) arrives. Each
 * piece is searched once, so a long line split over many pieces costs no more than its length.
 */
export async function* streamedLines(body: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let partial = '';
  for await (const piece of body) {
    const text = decoder.decode(piece, { stream: true });
    let newline = text.indexOf('\n');
    if (newline < 0) {
      partial += text;
      continue;
    }
    yield partial + text.slice(0, newline);
    let from = newline + 1;
    while ((newline = text.indexOf('\n', from)) >= 0) {
      yield text.slice(from, newline);
      from = newline + 1;
    }
    partial = text.slice(from);
  }
  partial += decoder.decode();
  if (partial !== '') yield partial;
}

/** Headers of a JSON API call, with the bearer key read from the named environment variable. */
export function jsonHeaders(apiKeyEnv: string | undefined, accept = 'application/json'): Record<string, string> {
  // Read here, in the thread that sends: the key never travels in tasks, results or logs.
  const apiKey = apiKeyEnv ? process.env[apiKeyEnv] : undefined;
  return { 'content-type': 'application/json', accept, ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) };
}
