/**
 * Reading the target's memory from hostile sources over real HTTP: every reading is bounded in time
 * and size and fails with its reason in words (the sampler counts it and the report shows it),
 * instead of hanging a phase or filling the harness's memory.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TARGET_READ_MAX_BYTES, TARGET_READ_TIMEOUT_MS, targetMemoryReader } from '../../src/worker/memory/read-target-memory';
import { freePort } from '../helpers/redis-server';

const METRIC_LINE = 'process_resident_memory_bytes 123456\n';
/** A page of comments, repeated on the fly for the 200 MB answer (never held whole by the server). */
const PAGE = Buffer.from('# HELP padding padding padding padding padding padding padding padding padding\n'.repeat(800));

function streamBytes(response: ServerResponse, total: number): void {
  let sent = 0;
  const pump = () => {
    while (!response.destroyed && sent < total) {
      sent += PAGE.length;
      if (!response.write(PAGE)) return void response.once('drain', pump);
    }
    if (!response.destroyed) response.end(METRIC_LINE);
  };
  pump();
}

const server = createServer((request, response) => {
  switch (request.url) {
    case '/metrics':
      response.writeHead(200, { 'content-type': 'text/plain' }).end(`# HELP x\n${METRIC_LINE}`);
      return;
    case '/huge':
      response.writeHead(200, { 'content-type': 'text/plain' });
      streamBytes(response, 200e6);
      return;
    case '/stall':
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.flushHeaders();
      return;
    case '/drip': {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => response.write('#'), 500);
      response.on('close', () => clearInterval(timer));
      return;
    }
    case '/api/ps':
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"models":[{"size":5000},{"size":7}]}');
      return;
    default:
      response.writeHead(503).end('unavailable');
  }
});

let origin: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const prometheus = (path: string, metric = 'process_resident_memory_bytes') =>
  targetMemoryReader({ source: 'prometheus', url: `${origin}${path}`, metric, unit: 'bytes' })!;

test('readings that work: a Prometheus metric, Ollama /api/ps', async () => {
  expect(await prometheus('/metrics')()).toBe(123456);
  expect(await targetMemoryReader({ source: 'ollama-ps', url: origin })!()).toBe(5007);
});

test('a 200 MB metrics page fails after the size cap, fast and without holding the page', async () => {
  const rssBefore = process.memoryUsage().rss;
  const startedMs = Date.now();
  await expect(prometheus('/huge')()).rejects.toThrow(`${origin}/huge answered more than ${TARGET_READ_MAX_BYTES} bytes`);
  // 4 MiB on loopback: milliseconds. Reading 200 MB took 771 MB of RSS before the cap.
  expect(Date.now() - startedMs).toBeLessThan(TARGET_READ_TIMEOUT_MS);
  expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100e6);
});

test.each([
  ['/stall', 'headers, then nothing'],
  ['/drip', 'a byte every 500 ms, forever'],
])('%s (%s): fails at the read timeout, not when the source gives up', async (path) => {
  const startedMs = Date.now();
  await expect(prometheus(path)()).rejects.toThrow(`${origin}${path} did not answer within ${TARGET_READ_TIMEOUT_MS} ms`);
  const tookMs = Date.now() - startedMs;
  expect(tookMs).toBeGreaterThanOrEqual(TARGET_READ_TIMEOUT_MS - 5);
  // The timer may fire late on a busy machine; a drip refreshing a per-chunk timeout would go on forever.
  expect(tookMs).toBeLessThan(TARGET_READ_TIMEOUT_MS + 1500);
});

test('other failures say what went wrong', async () => {
  await expect(prometheus('/down')()).rejects.toThrow(`${origin}/down answered HTTP 503`);
  await expect(prometheus('/metrics', 'vllm:gpu_cache_usage_perc')()).rejects.toThrow(
    `${origin}/metrics exposes no sample of vllm:gpu_cache_usage_perc (target.memory.metric)`,
  );
  // A typo gets the name the page does expose.
  await expect(prometheus('/metrics', 'process_resident_memory_byte')()).rejects.toThrow(
    'exposes no sample of process_resident_memory_byte: did you mean "process_resident_memory_bytes"?',
  );
  const closed = await freePort();
  await expect(targetMemoryReader({ source: 'ollama-ps', url: `http://127.0.0.1:${closed}` })!()).rejects.toThrow(
    `http://127.0.0.1:${closed}/api/ps: connect ECONNREFUSED 127.0.0.1:${closed}`,
  );
  await expect(targetMemoryReader({ source: 'pid', pid: 2 ** 22 + 17 })!()).rejects.toThrow('process 4194321 is not running');
});
