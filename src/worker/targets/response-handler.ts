/**
 * One attempt of one POST, as an undici dispatch handler: the response is read in undici's own
 * callbacks, piece by piece, with no body stream, async iterator or promise per piece. Measured on
 * one core against a server that answers at once: undici's `request()` API spent about 40 % of a
 * request's CPU on its Readable body, its AbortSignal and their promises (writev of the head and
 * body apart, stream state, microtasks); a handler spends none of it.
 *
 * It uses undici's handler callbacks that its HTTP/1 client calls natively (`onConnect`,
 * `onHeaders`, `onData`, `onComplete`, `onError`): the newer `onRequestStart` family is adapted to
 * them per request and parses every response's headers into an object that nothing here reads.
 */
import type { Dispatcher } from 'undici';
import type { BodyReader } from './body-reader';
import type { RequestOutcome } from './llm-target';

/** How much of an error body (status >= 300) is read: enough for the server's message, never a 10 MB page. */
const ERROR_BODY_BYTES = 4096;

/** How an attempt ended: an outcome, or an error raised before (`responded: false`) or after the response head. */
export type AttemptEnd =
  | { kind: 'outcome'; outcome: RequestOutcome }
  | { kind: 'error status'; statusCode: number; text: string }
  | { kind: 'thrown'; error: unknown; responded: boolean };

/** Raised into undici to close a response the harness gave up on (timeout, stop, a rejected or long error body). */
class ResponseClosed extends Error {}

export class ResponseHandler implements Dispatcher.DispatchHandler {
  private abortRequest: ((error: Error) => void) | undefined;
  private closedWith: Error | undefined;
  private settled = false;
  private completed = false;
  private statusCode = 0;
  private reader: BodyReader | undefined;
  private errorPieces: Buffer[] | undefined;
  private errorBytes = 0;

  /**
   * `startMs`: when the request was handed to undici. `createReader` makes the reader of a
   * successful (2xx) body; `done` is called exactly once, with how the attempt ended.
   */
  constructor(
    readonly startMs: number,
    private readonly createReader: (startMs: number) => BodyReader,
    private readonly done: (end: AttemptEnd) => void,
  ) {}

  /** Whether the response head arrived. */
  get responded(): boolean {
    return this.statusCode !== 0;
  }

  /**
   * Gives up on the attempt now (a timeout, a stopped phase): settles it and closes its connection;
   * a request still queued for a connection is closed when it gets one. An error status settles
   * with the part of its body that arrived, which still says why.
   */
  close(error: unknown): void {
    this.settleNow(error);
    this.closedWith ??= new ResponseClosed('closed by the harness');
    this.abortRequest?.(this.closedWith);
  }

  /**
   * Settles now and closes the connection after this event-loop turn unless the response ended
   * meanwhile: a rejected body or a long error body usually arrives whole in one read, and undici
   * reconnects to discard a request aborted in the middle of its response (one wasted connection each).
   */
  private giveUp(error: unknown): void {
    this.settleNow(error);
    setImmediate(() => {
      if (!this.completed) this.close(error);
    });
  }

  private settleNow(error: unknown): void {
    if (this.errorPieces) this.settleErrorStatus();
    else this.settle({ kind: 'thrown', error, responded: this.responded });
  }

  onConnect(abort: (error?: Error) => void): void {
    if (this.closedWith) abort(this.closedWith);
    else this.abortRequest = abort;
  }

  onHeaders(statusCode: number): boolean {
    // 1xx informational heads come before the real one.
    if (statusCode < 200) return true;
    this.statusCode = statusCode;
    // Redirects are not followed: a 3xx is an answer the client cannot use, counted by its status.
    if (statusCode >= 300) this.errorPieces = [];
    else this.reader = this.createReader(this.startMs);
    return true;
  }

  onData(piece: Buffer): boolean {
    if (this.settled) return true;
    if (this.errorPieces) {
      this.errorPieces.push(piece);
      this.errorBytes += piece.length;
      // Enough of the server's message: the rest is never read (the connection is closed).
      if (this.errorBytes >= ERROR_BODY_BYTES) this.giveUp(undefined);
      return true;
    }
    try {
      this.reader?.data(piece, performance.now());
    } catch (error) {
      this.giveUp(error);
    }
    return true;
  }

  onComplete(): void {
    this.completed = true;
    if (this.settled) return;
    if (this.errorPieces) {
      this.settleErrorStatus();
      return;
    }
    try {
      this.settle({ kind: 'outcome', outcome: (this.reader as BodyReader).end() });
    } catch (error) {
      this.settle({ kind: 'thrown', error, responded: true });
    }
  }

  onError(error: Error): void {
    if (this.settled) return;
    // A reset or timeout in the middle of an error body: what arrived still says why.
    if (this.errorPieces) this.settleErrorStatus();
    else this.settle({ kind: 'thrown', error, responded: this.responded });
  }

  private settleErrorStatus(): void {
    const pieces = this.errorPieces ?? [];
    const text = Buffer.concat(pieces).subarray(0, ERROR_BODY_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
    this.settle({ kind: 'error status', statusCode: this.statusCode, text });
  }

  private settle(end: AttemptEnd): void {
    if (this.settled) return;
    this.settled = true;
    this.done(end);
  }
}
