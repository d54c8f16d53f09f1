/**
 * What the HTTP targets share: one POST with a timeout, where an HTTP error status, a malformed
 * body and a network error all come back as classified failures, never as exceptions. The body is
 * handed to a `BodyReader` piece by piece as it arrives (see `ResponseHandler`).
 *
 * Bodies are bounded: undici stops reading a response past the pool's `maxResponseSize` (the
 * target's `maxResponseBytes`) and closes it, and an error body is read only up to a few KiB, so
 * a hostile or broken server cannot make the harness hold more than that per request in flight.
 */
import type { Dispatcher } from 'undici';
import type { BodyReader } from './body-reader';
import { classifyError, isConnectFailure } from './classify-error';
import type { InFlightRequests } from './in-flight-requests';
import type { RequestFailure, RequestOutcome } from './llm-target';
import { ResponseHandler, type AttemptEnd } from './response-handler';

/** Thrown by a body reader when the response does not follow the API: counted as malformed. */
export class MalformedResponse extends Error {}

/** What a POST needs of a target's connections: `HttpConnections`, or the warm-up's in-memory loopback. */
export interface ExchangeConnections {
  readonly pool: Dispatcher;
  /** Runs `send` once on a new connection of its own: the retry of a request that the server never saw. */
  retryOnFreshConnection<T>(send: (dispatcher: Dispatcher) => Promise<T>): Promise<T>;
}

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

/**
 * One POST, its outcome never thrown: an error status (>= 300) with the server's text, a body the
 * reader rejects, a network error, a timeout, or `aborted` when the harness stopped the phase
 * while it was in flight (`request.inFlight`). A request whose pooled connection the server closed
 * before any response byte never reached it: it is sent once more on a fresh connection (counted
 * by `connections`), its times taken from that send; a second close is a `connection_reset`.
 * `createReader` makes the reader of a successful body, given the send time.
 */
export function postWithTimeout(
  connections: ExchangeConnections,
  request: HttpExchange,
  createReader: (startMs: number) => BodyReader,
): Promise<RequestOutcome> {
  const { inFlight } = request;
  if (inFlight?.stopped)
    return Promise.resolve(failure(performance.now(), 'aborted', 'the phase was stopped before this request was sent'));
  let timedOut = false;
  let stopped = false;
  let current: ResponseHandler | undefined;
  const timer = setTimeout(() => {
    timedOut = !stopped;
    current?.close(undefined);
  }, request.timeoutMs);
  const abandon = () => {
    stopped = !timedOut;
    current?.close(undefined);
  };
  const slot = inFlight?.track(abandon);
  const options: Dispatcher.DispatchOptions = { path: request.path, method: 'POST', headers: request.headers, body: request.body };

  // One promise per request, settled from undici's callbacks: no async function layers per request.
  return new Promise<RequestOutcome>((resolve) => {
    const finish = (outcome: RequestOutcome) => {
      clearTimeout(timer);
      if (slot !== undefined) inFlight?.release(slot);
      // undici frees a keep-alive connection one event-loop turn after its response ended (a
      // setImmediate, so that a server that closes it anyway is seen first): the outcome is handed
      // over after that turn, so that the caller's next request reuses the connection instead of
      // opening another one.
      setImmediate(resolve, outcome);
    };
    /** `retry`: sends the request again on a fresh connection (first attempt only); `ended`: this attempt is over. */
    const attempt = (dispatcher: Dispatcher, retry?: () => void, ended?: () => void) => {
      const startMs = performance.now();
      const outcomeOf = (end: AttemptEnd): RequestOutcome | undefined => {
        if (end.kind === 'outcome') return end.outcome;
        if (end.kind === 'error status') {
          const { statusCode, text } = end;
          return failure(startMs, `http_${statusCode}`, text || `HTTP ${statusCode} with an empty body`);
        }
        if (stopped) return failure(startMs, 'aborted', 'the phase was stopped while this request was in flight');
        if (retry && !end.responded && !timedOut && classifyError(end.error, false) === 'connection_reset') return undefined;
        return thrownFailure(end.error, startMs, request, timedOut, end.responded);
      };
      const handler = new ResponseHandler(startMs, createReader, (end) => {
        const outcome = outcomeOf(end);
        if (outcome) finish(outcome);
        else retry?.();
        ended?.();
      });
      current = handler;
      // Stopped or timed out between two attempts: this one ends unsent.
      if (stopped || timedOut) handler.close(undefined);
      else dispatcher.dispatch(options, handler);
    };
    attempt(connections.pool, () => {
      void connections
        .retryOnFreshConnection((client) => new Promise<void>((ended) => attempt(client, undefined, ended)))
        .catch(() => undefined);
    });
  });
}

/** Headers of a JSON API call, with the bearer key read from the named environment variable. */
export function jsonHeaders(apiKeyEnv: string | undefined, accept = 'application/json'): Record<string, string> {
  // Read here, in the thread that sends: the key never travels in tasks, results or logs.
  const apiKey = apiKeyEnv ? process.env[apiKeyEnv] : undefined;
  return { 'content-type': 'application/json', accept, ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) };
}
