/**
 * A failure the mock answers with an HTTP status and a JSON error body, thrown by routes and the
 * engine and written by the server's one error handler.
 */
export class HttpError extends Error {
  /**
   * @param body the whole JSON body when a server's own shape must be kept (llama.cpp's context
   *   overflow); by default `{ error: { message, type, code: status } }`.
   */
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly body?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** The JSON body sent for this error. */
  toBody(): Record<string, unknown> {
    return this.body ?? { error: { message: this.message, type: this.type, code: this.status } };
  }
}
