/**
 * Streamed answers (SSE and NDJSON). Responses opened here are marked, so the connection policy
 * knows which ones to close after when the mock behaves like llama.cpp (`closeAfterStream`).
 */
import type { ServerResponse } from 'node:http';

const streamed = new WeakSet<ServerResponse>();

/** Sends the 200 head of a streamed answer: `text/event-stream` for SSE, `application/x-ndjson` for Ollama. */
export function openStream(response: ServerResponse, contentType: 'text/event-stream' | 'application/x-ndjson'): void {
  streamed.add(response);
  response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
}

/** Whether `response` was opened with {@link openStream}. */
export function isStream(response: ServerResponse): boolean {
  return streamed.has(response);
}

const corked = new WeakSet<ServerResponse>();

/**
 * Writes a piece of a streamed answer. Pieces written in the same tick (the role chunk and a first
 * token due at once, the last chunk, usage and `[DONE]`) leave in one packet, as a server's do, and
 * cost one system call instead of one each; a piece due later still leaves as soon as it is written.
 */
export function writePiece(response: ServerResponse, text: string): void {
  if (!corked.has(response)) {
    corked.add(response);
    response.cork();
    process.nextTick(() => {
      corked.delete(response);
      response.uncork();
    });
  }
  response.write(text);
}

/** One SSE event carrying `data` as JSON (`null` gives the `data: null` frame some servers send). */
export function sseEvent(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/** The SSE end marker of the OpenAI protocol. */
export const SSE_DONE = 'data: [DONE]\n\n';
