/**
 * A plain streaming client, the timing reference of the accuracy test: one `node:http` request on
 * a fresh connection (llama-server closes it after a streamed answer anyway), the SSE lines split
 * by hand, no pool, no worker thread. What it adds to the server's own `timings` is what the
 * machine and the protocol cost (HTTP, templating, tokenising, loopback); what grym-perf adds
 * beyond that is grym-perf's.
 */
import { request } from 'node:http';

export interface PlainStreamResult {
  /** Sent to the first chunk with non-empty `delta.content`. */
  ttftMs: number;
  /** Sent to the end of the body. */
  e2eMs: number;
  /** The server's own `timings` of this request (the usage chunk). */
  promptMs: number;
  predictedMs: number;
}

interface Frame {
  choices?: Array<{ delta?: { content?: string | null } }>;
  timings?: { prompt_ms: number; predicted_ms: number };
}

/** POSTs a streamed chat completion (`stream_options.include_usage`) to `port` on loopback. */
export function plainStream(port: number, body: Record<string, unknown>): Promise<PlainStreamResult> {
  const payload = JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } });
  return new Promise((resolve, reject) => {
    const startMs = performance.now();
    let ttftMs: number | undefined;
    let timings: Frame['timings'];
    let partial = '';
    const onLine = (line: string) => {
      if (!line.startsWith('data: ') || line === 'data: [DONE]') return;
      const frame = JSON.parse(line.slice('data: '.length)) as Frame;
      const content = frame.choices?.[0]?.delta?.content;
      if (ttftMs === undefined && typeof content === 'string' && content.length > 0) ttftMs = performance.now() - startMs;
      timings = frame.timings ?? timings;
    };
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    const req = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent: false, headers }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        lines.forEach(onLine);
      });
      res.on('error', reject);
      res.on('end', () => {
        const e2eMs = performance.now() - startMs;
        if (res.statusCode !== 200 || ttftMs === undefined || !timings) {
          reject(
            new Error(
              `plain client: HTTP ${res.statusCode}, first content ${ttftMs ?? 'never'}, timings ${timings ? 'present' : 'missing'}`,
            ),
          );
          return;
        }
        resolve({ ttftMs, e2eMs, promptMs: timings.prompt_ms, predictedMs: timings.predicted_ms });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
