/** JSON in and out of the mock's HTTP handlers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-error';

/** The largest request body the mock reads: far above any chat request, far below a memory problem. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** The request body as a JSON object; a 400 when it is not one, a 413 past MAX_BODY_BYTES (the rest is not read). */
export function readJsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_BODY_BYTES) {
        request.removeAllListeners('data').resume();
        reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.once('error', reject);
    request.once('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks, bytes).toString('utf8')) as unknown;
        if (typeof body !== 'object' || body === null) throw new Error('not an object');
        resolve(body as Record<string, unknown>);
      } catch {
        reject(new HttpError(400, 'request body must be a JSON object'));
      }
    });
  });
}

/** A whole JSON answer with its Content-Length (headers set earlier with setHeader are kept). */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
