/** What the server's wiring hands each route. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * One endpoint of the mock. `signal` aborts when the client goes away or the mock closes;
 * errors are thrown (as `HttpError`) and written by the server's one error handler.
 */
export type MockRoute = (request: IncomingMessage, response: ServerResponse, signal: AbortSignal) => Promise<void> | void;

/** `created` of every OpenAI answer (Unix seconds): a constant keeps answers byte-identical across runs. */
export const CREATED_S = 1_700_000_000;
