import type { RequestOutcome } from './llm-target';

/**
 * Reads one successful response body as its pieces arrive, synchronously, inside the HTTP
 * client's callbacks. Either method may throw `MalformedResponse` to reject the response.
 */
export interface BodyReader {
  /** A piece of the body, and `performance.now()` when it arrived (before any of it was parsed). */
  data(piece: Buffer, arrivedMs: number): void;
  /** The body ended: the request's outcome, ending now. */
  end(): RequestOutcome;
}
