/**
 * What the HTTP targets share: one POST with a timeout, where an HTTP error status, a malformed
 * body and a network error all come back as classified failures, never as exceptions; and the
 * lines of a streamed body (SSE or NDJSON) as they arrive, however the chunks split them.
 */
import type { Dispatcher, Pool } from 'undici';
import { classifyError } from './classify-error';
import type { RequestOutcome } from './llm-target';

/** Thrown by a body reader when the response does not follow the API: counted as malformed. */
export class MalformedResponse extends Error {}

export async function postWithTimeout(
  pool: Pool,
  request: { path: string; headers: Record<string, string>; body: string; timeoutMs: number },
  readBody: (body: Dispatcher.ResponseData['body'], startMs: number) => Promise<RequestOutcome>,
): Promise<RequestOutcome> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, request.timeoutMs);
  const startMs = performance.now();
  try {
    const response = await pool.request({ path: request.path, method: 'POST', headers: request.headers, body: request.body, signal: controller.signal });
    if (response.statusCode >= 400) {
      const text = await response.body.text().catch(() => '');
      return { ok: false, startMs, endMs: performance.now(), errorClass: `http_${response.statusCode}`, message: text.slice(0, 200) };
    }
    return await readBody(response.body, startMs);
  } catch (error) {
    const endMs = performance.now();
    if (error instanceof MalformedResponse) return { ok: false, startMs, endMs, errorClass: 'malformed_response', message: error.message };
    return { ok: false, startMs, endMs, errorClass: classifyError(error, timedOut), message: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** The lines of a streamed body, each yielded as soon as its newline (or the end) arrives. */
export async function* streamedLines(body: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const piece of body) {
    buffered += decoder.decode(piece, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered !== '') yield buffered;
}

/** Headers of a JSON API call, with the bearer key read from the named environment variable. */
export function jsonHeaders(apiKeyEnv: string | undefined, accept = 'application/json'): Record<string, string> {
  // Read here, in the thread that sends: the key never travels in tasks, results or logs.
  const apiKey = apiKeyEnv ? process.env[apiKeyEnv] : undefined;
  return { 'content-type': 'application/json', accept, ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) };
}
